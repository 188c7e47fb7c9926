# Two commands do everything (see README.md):
#   make course   set everything up and start JupyterLab on lessons/
#   make test     set everything up and run every test (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: course test setup build bench grade clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

course: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=lessons

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests solutions

build: $(STAMP)
	$(BIN)/nn-course build

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
