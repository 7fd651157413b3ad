"""eh_bench and its CLI import without the optional extras (torch, transformers, gradio, matplotlib)."""

from __future__ import annotations

import subprocess
import sys

BLOCKER = """
import sys, importlib.abc
HEAVY = {"torch", "transformers", "gradio", "matplotlib", "accelerate", "sklearn", "lm_eval"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ImportError(f"blocked optional dependency {name}")
        return None
sys.meta_path.insert(0, Block())
"""


def run_blocked(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, timeout=120)


def test_core_imports_without_extras() -> None:
    proc = run_blocked(
        "import eh_bench, eh_bench.metrics, eh_bench.rubric, eh_bench.likelihood\n"
        "print(eh_bench.metrics.summarize([1, 5], [3, 3], [1, 0], n_boot=0)['expected_harm'])"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1.5"


def test_cli_help_without_extras_lists_commands() -> None:
    proc = run_blocked("import sys; sys.argv = ['eh-bench', '--help']\nfrom eh_bench.cli import main\nmain()")
    assert proc.returncode == 0, proc.stderr
    for command in ("rubric", "likelihood", "summarize"):
        assert command in proc.stdout


def test_public_surface() -> None:
    import eh_bench

    assert set(eh_bench.__all__) >= {"summarize", "EHBenchError", "__version__"}
    assert eh_bench.summarize([1], [1], [0], n_boot=0)["asr"] == 0.0
