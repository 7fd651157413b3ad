"""The attack x benchmark matrix: marks, arrangement, refusals, and ``eh-bench attack table``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from attack_fakes import REQUESTS, CountingBackend, attacker_answer, target_answer
from typer.testing import CliRunner

from eh_bench.attacks.roles import RoleSpecs
from eh_bench.attacks.run import RunPlan, run_attack
from eh_bench.attacks.table import attack_matrix, marks, render_markdown, rows_for
from eh_bench.cli import app
from eh_bench.errors import InputError

runner = CliRunner()


def cell(variant: str, jailbreak: str, config: str, **values: Any) -> dict[str, Any]:
    return {"variant": variant, "jailbreak": jailbreak, "config": config, "n": 10, **values}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.2, 0.5, None, 0.5, 0.1], [2, 1, None, 1, None]),
        ([None, None], [None, None]),
        ([0.3], [1]),
        ([0.0, 0.0, 0.4], [2, 2, 1]),
    ],
)
def test_marks_rank_best_and_second_best(values: list[float | None], expected: list[int | None]) -> None:
    assert marks(values) == expected


def test_matrix_orders_attacks_and_marks_each_column() -> None:
    cells = [
        cell("cost+monitor", "direct", "jbb", asr=0.6, n_guard_original=10, guard_original_pass=0.1),
        cell("none", "direct", "jbb", asr=0.3, n_guard_original=10, guard_original_pass=0.1),
        cell("cost", "direct", "jbb", asr=0.4),
        cell("none", "direct", "core", asr=0.9, subtask_bypass=0.2),
        cell("cost", "direct", "core", asr=0.8, subtask_bypass=0.7),
    ]
    matrix = attack_matrix(cells)
    assert matrix.attacks == [("none", "direct"), ("cost", "direct"), ("cost+monitor", "direct")]
    assert matrix.configs == ["core", "jbb"]
    assert rows_for(matrix, "asr") == [
        ["none / direct", "**0.900**", "0.300"],
        ["cost / direct", "_0.800_", "_0.400_"],
        ["cost+monitor / direct", "—", "**0.600**"],
    ]
    bypass = rows_for(matrix, "subtask_bypass")
    assert bypass[-1] == ["(guard on original prompts)", "—", "0.100"]
    text = render_markdown(matrix)
    assert "| cost / direct | _0.800_ | _0.400_ |" in text and "Requests per config: core: 10, jbb: 10" in text


def test_the_same_cell_twice_is_refused() -> None:
    with pytest.raises(InputError, match="two results for config 'core', variant 'none'"):
        attack_matrix([cell("none", "direct", "core", asr=0.1), cell("none", "direct", "core", asr=0.2)])


def test_attack_table_command_prints_and_writes_the_matrix(tmp_path: Path) -> None:
    for config, limit in (("core", 3), ("core_benign", 2)):
        backends = {
            "fake:attacker": CountingBackend(attacker_answer, "fake:attacker"),
            "fake:target": CountingBackend(target_answer, "fake:target"),
        }
        plan = RunPlan(RoleSpecs(target="fake:target", attacker="fake:attacker"), config=config,
                       variants=("none", "cost"), jailbreaks=("direct",), n_boot=0)  # fmt: skip
        run_attack(plan, tmp_path / config, backends=backends, requests=REQUESTS[:limit])
    out = tmp_path / "table.md"
    result = runner.invoke(app, ["attack", "table", str(tmp_path / "core"), str(tmp_path / "core_benign"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "| attack (variant / jailbreak) | core | core_benign |" in text
    assert "| none / direct | **1.000** | **1.000** |" in text and "| cost / direct | _0.333_ | _0.500_ |" in text
    assert "none / direct" in result.output and "Task bypass" in result.output


def test_attack_table_on_a_folder_without_results_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["attack", "table", str(tmp_path)])
    assert result.exit_code != 0 and "no summaries/ folder" in str(result.exception)
