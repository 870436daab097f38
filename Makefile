# coursepay developer entry points. `make run` works on a fresh clone: it creates the virtualenv first.

# pyenv shims may not resolve 3.13 even when it is installed: fall back to pyenv's own path.
PYTHON313 := $(shell command -v python3.13 >/dev/null 2>&1 && python3.13 -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && command -v python3.13 || ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3 2>/dev/null | tail -n 1)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements-dev

.PHONY: venv run test lint build system-deps bench lock openapi

venv: $(STAMP)

# Reinstalls only when requirements-dev.txt changed since the last install (the stamp is newer otherwise).
$(STAMP): requirements-dev.txt
	@test -x $(PY) || { test -n "$(PYTHON313)" || { echo "Python 3.13 not found (install it, e.g. pyenv install 3.13)"; exit 1; }; \
		echo "creating $(VENV) with $(PYTHON313)"; $(PYTHON313) -m venv $(VENV); }
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: venv
	$(PY) -m local.stack

# Debian's Chromium for the browser tests (hosted checkout pages) and Debian's PostgreSQL server for the learning
# tools (the local stack and the tests start a throwaway cluster); a no-op where they are installed.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

export SAM_CLI_TELEMETRY := 0

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	PYTHONPATH=layers/common $(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint

# sam build finds python3.13 on PATH: the virtualenv's interpreter is that version.
build: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build --cached --cache-dir .aws-sam/cache

# The test command: static checks, the SAM build, then every test (unit, sandbox, integration, browser).
test: lint build
	$(PY) -m pytest -n 2 --dist loadgroup --durations=20

# The HTTP API's OpenAPI 3.1 document (docs/openapi.json) from template.yaml and the handlers' request models;
# tests/unit/test_openapi.py fails while it is stale.
openapi: venv
	PYTHONPATH=layers/common $(PY) -m local.openapi

# The cold-start table measures the make build artifact (and a Django peer in its own .bench/peer-venv); the
# round-trip table counts each action's Stripe and AWS calls through the handlers (moto and the sandbox in-process);
# the load figures run 1,000 webhooks and 100 purchases through a fresh local stack (.bench/load-stack/stack.log).
bench: build
	$(PY) -m bench.cold_start
	PYTHONPATH=layers/common $(PY) -m bench.round_trips
	$(PY) -m bench.load

# Regenerate the development lock from the current virtualenv.
lock: venv
	{ echo "# Development lock: pip freeze of the project virtualenv (Python 3.13). Regenerate with 'make lock'."; \
	  $(PY) -m pip freeze | grep -v '^-e'; } > requirements-dev.txt
