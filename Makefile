# The README's two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench install

$(BIN)/edfi-stream: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/edfi-stream

install: $(BIN)/edfi-stream

demo: $(BIN)/edfi-stream
	$(BIN)/edfi-stream demo

# pytest exits 5 when it collects nothing: that is a failure here, like any non-zero code.
test: $(BIN)/edfi-stream
	$(BIN)/pytest -q -p no:cacheprovider --timeout=300

lint: $(BIN)/edfi-stream
	$(BIN)/ruff check streams agents schemas tests benchmarks
	$(BIN)/mypy

bench: $(BIN)/edfi-stream
	$(BIN)/python benchmarks/rules_throughput.py
