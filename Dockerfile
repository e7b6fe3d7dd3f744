# Témoin: one image for every process (`temoin db upgrade`, `temoin worker`, `temoin bot`).
# Build: docker build -t temoin .      Run: see docker-compose.yml.
#
# tools/smoke_image.py checks this file without a Docker engine: it builds each stage's root
# file system from Debian packages and runs these very instructions in it, then the program
# read-only (see the README, "Production"). It knows FROM, ENV, WORKDIR, COPY, RUN, USER,
# ENTRYPOINT and CMD; keep to those. The base names its Debian release (bookworm), so the
# package names of tools/runtime-packages.txt and the smoke check's release follow it.

# --- build stage: turn the source tree into a wheel ------------------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime stage: what the program loads, the wheel and its dependencies, nothing else -----
FROM python:3.11-slim-bookworm
# The root file system is read-only in production (docker-compose.yml): the only writable
# places are var/ (a volume) and /tmp. Matplotlib's and fontconfig's caches go to var/, kept
# from one run to the next, instead of a home directory they could not write.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/srv/temoin/var/cache/matplotlib \
    XDG_CACHE_HOME=/srv/temoin/var/cache

# Pango, HarfBuzz and fonts for WeasyPrint: the one list tools/ensure-servers.sh installs too.
# Before the wheel, so that a code change does not download them again.
COPY tools/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && sed -e 's/#.*//' /tmp/runtime-packages.txt \
       | DEBIAN_FRONTEND=noninteractive xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt

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
