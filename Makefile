# orgsim — two commands set everything up on a fresh machine:
#   make demo   creates the venv, installs, serves the browser UI on http://127.0.0.1:8765
#   make test   creates the venv, installs, runs the whole test suite
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Mesa 3.4+ needs Python >= 3.12: take the first interpreter that is new enough.
PYTHON ?= $(shell for p in python3.12 python3.13 python3.14 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	then echo $$p; break; fi; done)

.PHONY: demo test bench lint docs figures patterns screen calibration clean chromium

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "orgsim needs Python >= 3.12 (Mesa 3.5 requires it); install python3.12 and retry." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/orgsim ui --host 127.0.0.1 --port 8765

compare: $(STAMP)
	$(BIN)/orgsim compare siloed multiplier_led siloed_turnaround

chromium:
	@bash scripts/ensure-chromium.sh

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py
	$(BIN)/python benchmarks/experiment_benchmark.py 2>/dev/null

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

docs: $(STAMP)
	$(BIN)/orgsim docs

figures: $(STAMP)
	$(BIN)/python docs/make_figures.py

# The pattern catalogue (claims with knockouts) -> docs/patterns.md
patterns: $(STAMP)
	$(BIN)/orgsim patterns

# One-at-a-time parameter screen -> the table at the end of docs/model.md
screen: $(STAMP)
	$(BIN)/python docs/make_screen.py

# Published targets next to the model's values -> docs/calibration.md
calibration: $(STAMP)
	$(BIN)/python docs/make_calibration.py

clean:
	rm -rf $(VENV) .pytest_cache
