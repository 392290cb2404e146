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

.PHONY: demo test test-fast coverage test-wheel bench bench-classroom bench-scale bench-scaling lint docs figures ui-figures patterns screen calibration clean chromium mutate

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "orgsim needs Python >= 3.12 (Mesa 3.5 requires it); install python3.12 and retry." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@echo "compiling the model's passes once (numba caches them beside the sources; 10-20 s)"
	$(BIN)/python -c 'import orgsim.warm'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/orgsim ui --host 127.0.0.1 --port 8765

compare: $(STAMP)
	$(BIN)/orgsim compare siloed multiplier_led siloed_turnaround

chromium:
	@bash scripts/ensure-chromium.sh

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# The unit and property tests only (every test over ~0.5 s is marked slow or browser): seconds.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: pytest's assertion rewriting
# of every test module would otherwise cost about 2 s at each run.
test-fast: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n 2 -m "not slow and not browser"

# The whole suite with line coverage of every Python process it starts: pytest and its workers,
# the `orgsim` subprocesses and the `orgsim ui` server ([tool.coverage.*] in pyproject.toml)
coverage: $(STAMP) chromium
	rm -f .coverage .coverage.*
	COVERAGE_PROCESS_START=$(CURDIR)/pyproject.toml COVERAGE_FILE=$(CURDIR)/.coverage \
		$(BIN)/python -m pytest -n 2 --dist loadfile -q
	$(BIN)/python -m coverage combine -q
	$(BIN)/python -m coverage report

# Build the wheel, install it in a fresh venv outside the repository, run it from an empty folder
test-wheel: $(STAMP)
	PYTHON=$(PYTHON) BUILD_PIP=$(abspath $(BIN))/pip bash scripts/test-wheel.sh

# Mutation testing of src/orgsim/mechanisms/ and src/orgsim/model.py (mutmut, [tool.mutmut] in
# pyproject.toml): a fresh run in mutants/ (about 25 min on 2 cores), then the kill rate per target.
# A survivor's diff: .venv/bin/mutmut show NAME; all survivors: .venv/bin/mutmut results
mutate: $(STAMP)
	rm -rf mutants && mkdir mutants
	time $(BIN)/mutmut run --max-children 2 > mutants/run.log 2>&1 || { tail -n 40 mutants/run.log; exit 1; }
	@$(BIN)/mutmut results --all true | awk -F': ' ' \
		{ split($$1, name, "."); t = (name[2] == "model") ? "model.py" : "mechanisms/"; \
		  n[t]++; if ($$2 == "killed") k[t]++; else other[t, $$2]++; seen[$$2] = 1 } \
		END { for (t in n) { line = sprintf("%-12s killed %4d / %4d = %5.1f %%", t, k[t], n[t], 100 * k[t] / n[t]); \
		        for (s in seen) if ((t, s) in other) line = line sprintf(", %s %d", s, other[t, s]); print line } }'

# orgsim against idiomatic Mesa, agent-steps/s from 10k to 10M customers, 1M customers for a year,
# flagship runs per minute, browser frames (about 8 min)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py
	$(BIN)/python benchmarks/experiment_benchmark.py 2>/dev/null
	$(BIN)/python benchmarks/ui_frame.py

# Step time and memory from 10k to 10M customers and 100 to 20k employees -> benchmarks/scaling.png
bench-scaling: $(STAMP)
	$(BIN)/python benchmarks/scaling.py

# A classroom on one UI server: 1 to 30 students playing compare mode at once, as websocket clients (8 min)
bench-classroom: $(STAMP)
	$(BIN)/python benchmarks/ui_classroom.py --sessions 1 10 20 30 --workers 1 4 --seconds 20 --speed 5

# A 20,480-run Sobol experiment killed and resumed, its size, read-back and report (15-30 min)
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/experiment_scale.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

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

# The README's screenshots of the browser UI: compare mode after an intervention, presentation mode
ui-figures: $(STAMP)
	$(BIN)/python docs/make_ui_figures.py

# Published targets next to the model's values -> docs/calibration.md
calibration: $(STAMP)
	$(BIN)/python docs/make_calibration.py

clean:
	rm -rf $(VENV) .pytest_cache
