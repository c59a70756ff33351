# The README's commands. Each one creates .venv when it is missing and installs the
# project into it, so a fresh clone needs nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test serve play lint format bench bench-attack fuzz clean screenshot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Chromium and PostgreSQL, which the tests drive for real (installed when missing).
SYSTEM_STAMP := $(VENV)/.system-stamp
$(SYSTEM_STAMP): .ci/system-deps $(STAMP)
	bash .ci/system-deps
	touch $(SYSTEM_STAMP)

test: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/python -m pytest

# The README's picture (docs/table.png): a table mid-game in headless Chromium, taken by
# the browser test that plays it (tests/test_web_play.py).
screenshot: $(STAMP) $(SYSTEM_STAMP)
	CARDGAME_SCREENSHOT=docs/table.png $(BIN)/python -m pytest tests/test_web_play.py -k newcomer

# Options for `cardgame serve`, e.g. make serve ARGS="--port 8889" (cardgame serve --help).
ARGS ?=
serve: $(STAMP)
	$(BIN)/cardgame serve $(ARGS)

play: $(STAMP)
	$(BIN)/cardgame play --computers 3

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Server load (cardgame against the Colyseus room of bench/colyseus, interleaved, at 10,
# 50 and 200 rooms) and idle connections (both servers): the full settings take about
# ten minutes on 2 cores. The tables go to bench/RESULTS.md. Needs Node 20 and npm (the
# Colyseus side is installed from its package-lock.json). A quick check:
# make bench LOAD_ARGS="--rooms 5 --repeat 1" CONNECTIONS_ARGS="--connections 200"
LOAD_ARGS ?= --rooms 10,50,200
CONNECTIONS_ARGS ?=
# One process on SQLite, one and two on PostgreSQL (bench/stores.py, a throwaway cluster).
STORES_ARGS ?=
BENCH_VARS = $(if $(filter command line,$(origin LOAD_ARGS)), LOAD_ARGS='$(LOAD_ARGS)')$(if $(CONNECTIONS_ARGS), CONNECTIONS_ARGS='$(CONNECTIONS_ARGS)')
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

COLYSEUS_STAMP := bench/colyseus/node_modules/.installed-stamp
$(COLYSEUS_STAMP): bench/colyseus/package-lock.json
	cd bench/colyseus && npm ci --no-audit --no-fund
	touch $(COLYSEUS_STAMP)

bench: $(BENCH_STAMP) $(COLYSEUS_STAMP)
	{ echo "# Benchmark results"; echo; \
	  echo "Machine: $$($(BIN)/python bench/server_load.py --machine)."; \
	  echo "Reproduce: \`make bench$(BENCH_VARS)\` (run $$(date -u +%F) at $$(git rev-parse --short HEAD))."; \
	  echo; $(BIN)/python bench/server_load.py $(LOAD_ARGS) && echo && \
	  $(BIN)/python bench/connections.py $(CONNECTIONS_ARGS) && echo && \
	  $(BIN)/python bench/stores.py $(STORES_ARGS); \
	  $(BIN)/python bench/attack.py --section-of bench/RESULTS.md; \
	} > bench/RESULTS.md.tmp
	mv bench/RESULTS.md.tmp bench/RESULTS.md
	cat bench/RESULTS.md

# The attacks of issue 9 against cardgame serve, with a witness game (about 6 minutes on
# 2 cores): their section of bench/RESULTS.md, which make bench keeps as it was.
ATTACK_ARGS ?=
bench-attack: $(BENCH_STAMP)
	$(BIN)/python bench/attack.py --results bench/RESULTS.md $(ATTACK_ARGS)

# The protocol fuzzer, long: many Hypothesis examples and connection-churn cycles.
fuzz: $(STAMP)
	CARDGAME_FUZZ_EXAMPLES=400 CARDGAME_FUZZ_CYCLES=1000 $(BIN)/python -m pytest tests/test_fuzz.py

clean:
	rm -rf $(VENV) build *.egg-info
