# The README's two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench install kafka

$(BIN)/edfi-stream: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/edfi-stream

install: $(BIN)/edfi-stream

demo: $(BIN)/edfi-stream
	$(BIN)/edfi-stream demo

# Apache Kafka's jars from Maven Central (deploy/kafka/pom.xml) into ~/.cache/edfi-stream (or $$EDFI_STREAM_KAFKA_LIBS);
# the tests fetch them on first use too. Needs Java 17 and Maven.
kafka: $(BIN)/edfi-stream
	$(BIN)/python -m streams.broker.jars

# pytest exits 5 when it collects nothing: that is a failure here, like any non-zero code.
test: $(BIN)/edfi-stream
	$(BIN)/pytest -q -p no:cacheprovider --timeout=300

# lint-imports: the import-linter contracts of pyproject.toml ([tool.importlinter]): the layers
# (cli/demo > agents > resync/simulate/deadletters/io > edfi/codec/kafka/observability/config > rules >
# sis/writes/errors) and the pure domain (no Faust, Kafka, httpx, Prometheus, pydantic or YAML in
# streams/rules, streams/sis, streams/writes.py).
lint: $(BIN)/edfi-stream
	$(BIN)/ruff check streams agents schemas tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

bench: $(BIN)/edfi-stream
	$(BIN)/python benchmarks/rules_throughput.py
