# Témoin: one image for every process (`temoin db upgrade`, `temoin worker`, `temoin bot`).
# Build: docker build -t temoin .      Run: see docker-compose.yml.

# --- build stage: turn the source tree into a wheel ------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime stage: the wheel and its dependencies, nothing else -----------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels

# A fixed uid, so secret files on the host can be made readable to it (chown 10001).
RUN groupadd --system --gid 10001 temoin \
    && useradd --system --uid 10001 --gid temoin --home-dir /srv/temoin --create-home temoin
USER temoin
WORKDIR /srv/temoin
# data_dir (./var, and the SQLite file when no TEMOIN_DATABASE_URL is given). Made here, as
# the temoin user, so that a volume mounted on it starts out owned by that user.
RUN mkdir -p /srv/temoin/var

ENTRYPOINT ["temoin"]
CMD ["--help"]
