# The two commands a new user needs: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test install infra migrate lint schemas bench clean

## run: the whole system against the simulated platform; WhatsApp goes to var/whatsapp.jsonl
run: install infra
	$(PY) scripts/devstack.py

## test: install everything, start what is missing, lint, run every test (TEST_WORKERS processes, one file each)
TEST_WORKERS ?= 2
test: install infra lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

install: $(VENV)/.synced

$(VENV)/.synced: uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml fakes/*/pyproject.toml
	@UV="$$(bash scripts/ensure-uv.sh | tail -n 1)" && "$$UV" sync --frozen
	@touch $@

## infra: install and start PostgreSQL, Redis and RabbitMQ when they are missing or stopped
infra:
	@bash scripts/ensure-infra.sh

## migrate: apply every service's migrations to the database in DATABASE_URL
migrate: install infra
	@for s in scheduler ingest attendance notifier wa-gateway; do $(VENV)/bin/cicero-$$s migrate || exit 1; done

## lint: ruff, mypy, the committed JSON Schemas and the compose file
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m cicero_contracts.schema_files --check
	@bash infra/lint-compose.sh

## schemas: regenerate the committed JSON Schema files after changing a contract model
schemas: install
	$(PY) -m cicero_contracts.schema_files

## bench: every benchmark; each ends with one JSON line
bench: install infra
	@for b in bench/*.py; do case $$b in bench/_*) continue;; esac; echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
