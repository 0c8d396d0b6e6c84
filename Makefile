# Yiwang: the two commands of the README are `make run` and `make test`; the rest are their steps.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install messages migrate demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# compiled message catalogs (.mo) are build output, never committed; msgfmt comes from gettext
messages: $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then cd src/yiwang && ../../$(BIN)/yiwang compilemessages -v0; \
	else echo "warning: msgfmt (gettext) not found: Chinese message overrides and English not compiled"; fi

install: $(STAMP) node_modules/.package-lock.json messages

migrate: install
	$(BIN)/yiwang migrate --noinput -v 0

demo: migrate
	$(BIN)/yiwang demo load --if-absent

run: demo
	@echo ""
	@echo "一网 Yiwang 演示镇已就绪 / demo town ready:  http://$(HOST):$(PORT)/"
	@$(BIN)/yiwang demo accounts
	@echo ""
	$(BIN)/yiwang runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py

# the cases benchmark (docs/BENCHMARKS.md, its cases section): gunicorn + wrk (Debian: apt-get install wrk)
.PHONY: bench-cases
bench-cases: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null 2>&1 || { echo "bench-cases needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/cases/run.py

clean:
	rm -rf $(VENV) node_modules var/*.sqlite3*
