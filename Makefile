# make run    the orchestrator on http://127.0.0.1:8000/ (SQLite + a private Redis, under supervisord; no env needed)
# make test   lint, Django checks, migrations check and pytest against PostgreSQL, Redis, a registry
# make bench  the benchmarks in bench/ (make soak: the 30-minute soak of the embedded stack)
# make lock   regenerate the hashed locks requirements*.txt from requirements*.in (UPGRADE=1: newest allowed)
# make images the production stack's images (compose.yaml) on a local Debian base; see scripts/images.sh
# make clean  remove var/ (database, logs, broker, registry data); keeps .venv
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv engine test-services images run test bench soak lock clean

# The venv is rebuilt only when a lock changes. The locks carry hashes, so pip installs exactly
# the reviewed files (--require-hashes is implied) and nothing else.
$(STAMP): requirements.txt requirements-dev.txt
	python3 -c 'import ensurepip' 2>/dev/null || { source scripts/lib.sh && ensure_pkgs python3-venv; }
	python3 -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.txt
	touch $@

venv: $(STAMP)

engine:
	scripts/ensure-engine.sh

test-services:
	scripts/ensure-test-services.sh

# The local Debian base (built once, kept) and on it the app, PostgreSQL, Redis and HAProxy images.
images: engine venv
	scripts/images.sh

run: engine venv
	scripts/run.sh

test: export DATABASE_URL := postgres://orchestrator:orchestrator@127.0.0.1:5432/orchestrator
test: export CELERY_BROKER_URL := redis://127.0.0.1:6379/0
test: export TEST_REGISTRY := 127.0.0.1:5000
# The stack test (-m stack) builds its own app image; here the cached base and service images.
test: test-services venv
	scripts/images.sh postgres redis haproxy nginx
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

bench: export PYTHONPATH := $(CURDIR)
bench: export DJANGO_SETTINGS_MODULE := orchestrator_site.settings
# Runs every bench/*.py that is a script (has a __main__ guard) but the soak; helpers like bench/stack.py
# are skipped. The soak runs 30 minutes: `make soak` (MINUTES=N for another length).
bench: engine venv
	for f in $$(grep -l '^if __name__ == "__main__":' bench/*.py | grep -v soak.py); do echo "== $$f"; $(BIN)/python "$$f"; done

soak: export PYTHONPATH := $(CURDIR)
soak: engine venv
	$(BIN)/python bench/soak.py --minutes $(or $(MINUTES),30)

# Top-level requirements live in requirements.in / requirements-dev.in; the locks pin every package
# with its hashes for every platform. Without UPGRADE, pins already in a lock are kept and only
# what the .in files added or changed is resolved; UPGRADE=1 moves every pin to the newest release
# the .in files allow. The runtime lock constrains the dev lock, so both agree.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
lock: venv
	test -x $(BIN)/uv || $(BIN)/pip install --disable-pip-version-check -q "$$(grep -m1 -o '^uv==[^ ]*' requirements-dev.txt)"
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf var
