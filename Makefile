# One task runner. Every target creates or reuses .venv and installs the project into it,
# so on a fresh machine `make demo` and `make test` do all the set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-realtime lint bench venv clean docs-cli report-screenshot

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,virtual]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/coach demo

# 4 workers (pytest-xdist) even on 2 cores: about a third of the suite's wall time is waiting (coach as a subprocess,
# the BlueZ rig's processes, Chromium), which other workers fill; docs/maintainers/architecture.md, "Tests and time"
test: $(STAMP)
	$(BIN)/python -m pytest -n 4

# the tests marked realtime (they need the wall clock; `make test` leaves them out): CI runs them as a separate step
test-realtime: $(STAMP)
	$(BIN)/python -m pytest -m realtime

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# the bench extra (scikit-digital-health and mobgap, compared side by side) is installed only for `make bench`
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $@

bench: $(STAMP) $(VENV)/.bench-installed
	$(BIN)/python -m bench

# The HTML report of a demo session (after a shorter run whose replay ends early), rendered by headless Chromium
# (Debian: apt-get install chromium; driven by tools/chromium.py) at desktop and at phone width, for docs/report.md:
# docs/img/report.png (1280 px wide) and docs/img/report-phone.png (390 px, a phone's viewport), whole pages.
REPORT_DEMO := build/report-demo
CHROMIUM ?= chromium
report-screenshot: $(STAMP)
	rm -rf $(REPORT_DEMO) && mkdir -p $(REPORT_DEMO) docs/img
	$(BIN)/coach run --sensor replay:fixtures/chest-walk-jog-walk-hexoskin-008.jsonl --programme back-pain \
		--stage 1 --speed 100 --voice none --data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach pain 1 --when before --session latest --data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach pain 3 --when after --session latest --data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach pain 2 --when next-morning --session latest --data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach demo --voice none --data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach pain 2 --when before --session latest --data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach pain 3 --when after --session latest --note "lower back a bit stiff, eased after 10 min" \
		--data-dir $(REPORT_DEMO) > /dev/null
	$(BIN)/coach report latest --html $(REPORT_DEMO)/report.html --data-dir $(REPORT_DEMO)
	CHROMIUM=$(CHROMIUM) $(BIN)/python tools/chromium.py $(REPORT_DEMO)/report.html docs/img/report.png \
		--width 1280 --height 900
	CHROMIUM=$(CHROMIUM) $(BIN)/python tools/chromium.py $(REPORT_DEMO)/report.html docs/img/report-phone.png \
		--width 390 --height 844 --mobile

docs-cli: $(STAMP)
	$(BIN)/python tools/gen_cli_docs.py > docs/cli.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
