# Two commands do everything: `make demo` (the main job) and `make test` (the suite).
# Both create .venv and install the pinned dependencies on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test bench release notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

demo: $(STAMP)  ## release everything, autograde the sample class, write grades and feedback
	$(BIN)/hw demo

test: $(STAMP)  ## the whole suite (ci budget, offline fixtures)
	HW_MODE=ci HW_DATA=fixture $(BIN)/python -m pytest -q -p no:logging --durations=25 tests

bench: $(STAMP)  ## throughput and budget measurements (prints figures)
	$(BIN)/python benchmarks/run.py

release: $(STAMP)
	$(BIN)/hw release

notebooks: $(STAMP)  ## rebuild source notebooks from authoring/
	for f in authoring/build_*.py; do $(BIN)/python $$f; done

clean:
	rm -rf autograded feedback submitted gradebook.db grades.csv grades_long.csv
