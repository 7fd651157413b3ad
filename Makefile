# eh-bench developer entry points. On a fresh clone `make demo` and `make test` each run the idempotent
# `make setup` first (a second setup only checks the environment), so those two commands are all it takes.
VENV ?= .venv
PY := $(VENV)/bin/python
# Verified local copies of the public benchmark files, when this checkout has them beside it.
SHARED_SOURCES := $(wildcard $(abspath ../shared/sources))
ifneq ($(SHARED_SOURCES),)
export EH_SOURCES_DIR ?= $(SHARED_SOURCES)
endif

.PHONY: setup test lint typecheck check demo leaderboard clean

setup:  ## create .venv: torch (CPU) first, then eh-bench with every extra, then the embedded model
	VENV=$(VENV) bash scripts/setup.sh

test: setup  ## the whole test suite (slow and browser tests included), after the idempotent setup
	$(PY) -m pytest -q

lint:
	$(VENV)/bin/ruff check eh_bench tests benchmarks leaderboard

typecheck:
	$(VENV)/bin/mypy --strict eh_bench leaderboard

check: lint typecheck test

demo: setup  ## offline: the embedded SmolLM2 on a stratified sample of core (one request per cost x severity cell), then the report, re-judged by the trained CPU judge eh-harm
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(VENV)/bin/eh-bench run --model smollm2 \
		--tasks eh_core --per-cost 5 --max-gen-toks 96 --batch-size 8 --out runs/demo
	$(VENV)/bin/eh-bench score runs/demo --judge eh-harm --out runs/demo/eh-bench-eh-harm

# Where `make leaderboard` keeps its store and caches, and what it does about the embedded model's run
# (background: publish it when cached, else run it in the background; wait: run it first; skip).
LEADERBOARD_OUT ?= out/leaderboard
LEADERBOARD_EMBEDDED ?= background

leaderboard:  ## seed the store from the imported published responses (seconds) + the embedded model's cached run, serve it (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, default 127.0.0.1:7860)
	$(PY) -m leaderboard.seed_local --out $(LEADERBOARD_OUT) --embedded $(LEADERBOARD_EMBEDDED)
	$(PY) -m leaderboard.app --store $(LEADERBOARD_OUT)/store

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
