# Témoin: `make test` and `make demo` do their whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo web venv clean servers

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

servers:
	bash tools/ensure-servers.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

pytest: venv servers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# A whole campaign in simulated time against real servers (Dovecot is installed when
# missing and we are root), checked against the simulators' truth.
demo: venv servers
	$(BIN)/temoin demo --check

# The back office and the portal on the last demo's database (accounts printed by the demo).
web: venv
	TEMOIN_DATABASE_URL=sqlite:///var/demo/temoin.db \
	TEMOIN_WEB__SECRET_KEY=file:var/demo/web_secret_key \
	TEMOIN_WEB__SECURE_COOKIES=false \
	TEMOIN_WEB__PUBLIC_URL=http://127.0.0.1:8000 \
	$(BIN)/temoin web --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
