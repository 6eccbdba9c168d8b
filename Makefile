# Two commands matter: `make serve` runs the webhook server, `make test` runs the tests.
# Both create the virtual environment (.venv) on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: model cases install serve test lint check flows-check clean chat call readme screenshot

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.installed-*
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

install: $(STAMP)

# Port 8000 taken? `make serve PORT=8123` (or ARGS="--port 8123"; ARGS takes any `ivr serve` option).
serve: $(STAMP)
	$(BIN)/ivr serve $(if $(PORT),--port $(PORT)) $(ARGS)

# The browser tests need Chromium: scripts/ensure-chromium installs Debian's package where it can
# (root with apt-get), else says how, and those tests are then reported as skipped (failed in CI).
test: $(STAMP)
	@scripts/ensure-chromium
	scripts/with-redis $(BIN)/pytest -n auto --maxprocesses=2 $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

flows-check: $(STAMP)
	$(BIN)/ivr flows check

check: lint flows-check test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

chat: $(STAMP)
	$(BIN)/ivr chat

call: $(STAMP)
	$(BIN)/ivr call

# Redraw the flow diagram in docs/flows.md after a change to the flow (a test fails while it is stale).
readme: $(STAMP)
	$(BIN)/ivr flows graph muscle-weakness --readme docs/flows.md

# The README's picture of the simulator page, taken by the browser tests.
screenshot: $(STAMP)
	@scripts/ensure-chromium
	scripts/with-redis $(BIN)/pytest -q tests/browser -k screenshot
	cp test-results/browser/text-mode.png docs/simulator.png

# Retrain the answer model from flows/answers/train (and print how it handles the held-out part);
# then `make test` holds it to the bar on replies it never saw (tests/understanding).
model: $(STAMP)
	$(BIN)/ivr answers train

# The flow against its case bank: advice given against advice expected, and each miss.
cases: $(STAMP)
	$(BIN)/ivr flows validate
