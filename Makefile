# coursepay developer entry points. `make run` works on a fresh clone: it creates the virtualenv first.

# pyenv shims may not resolve 3.13 even when it is installed: fall back to pyenv's own path.
PYTHON313 := $(shell command -v python3.13 >/dev/null 2>&1 && python3.13 -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && command -v python3.13 || ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3 2>/dev/null | tail -n 1)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements-dev

.PHONY: venv run

venv: $(STAMP)

# Reinstalls only when requirements-dev.txt changed since the last install (the stamp is newer otherwise).
$(STAMP): requirements-dev.txt
	@test -x $(PY) || { test -n "$(PYTHON313)" || { echo "Python 3.13 not found (install it, e.g. pyenv install 3.13)"; exit 1; }; \
		echo "creating $(VENV) with $(PYTHON313)"; $(PYTHON313) -m venv $(VENV); }
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: venv
	$(PY) -m local.stack
