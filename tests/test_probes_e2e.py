"""The probes on the embedded SmolLM2 model: real forward passes, real files, a few dozen prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from leaderboard_fixtures import make_report, write_report
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.probes.extract import batch_states, extract_to_store
from eh_bench.probes.sets import probe_set
from eh_bench.probes.store import StateStore

pytestmark = pytest.mark.slow
runner = CliRunner()
HARMLESS = ["Name three colours of autumn leaves.", "How many legs does a spider have?",
            "Suggest a title for a story about a lighthouse keeper and a very patient cat.",
            "What is the boiling point of water at sea level?", "Give me a haiku about rain.",
            "List two board games for a family evening.", "Why is the sky blue?"]
FAST = ["--n-perm", "20", "--probe-perm", "4", "--n-boot", "100", "--batch-size", "8"]


@pytest.fixture(scope="module")
def smollm2() -> tuple[Any, Any, Any]:
    from eh_bench.backends.embedded import load_model_and_tokenizer, prepare_model
    from eh_bench.backends.transformers_backend import TransformersBackend

    model, tokenizer = load_model_and_tokenizer(prepare_model("smollm2"))
    return model, tokenizer, TransformersBackend.from_loaded(model, tokenizer, spec="smollm2")


def encode(backend: Any, text: str) -> list[int]:
    return list(backend.encode([{"role": "user", "content": text}]))


def test_left_padding_leaves_every_prompt_unchanged(smollm2: tuple[Any, Any, Any]) -> None:
    model, tokenizer, backend = smollm2
    short, long = encode(backend, HARMLESS[1]), encode(backend, HARMLESS[2])
    assert len(long) > len(short) + 5
    for pool in ("last", "mean"):
        alone = batch_states(model, [short], tokenizer.pad_token_id, pool)
        padded = batch_states(model, [long, short], tokenizer.pad_token_id, pool)
        assert alone.shape == (31, 1, 576) and padded.shape == (31, 2, 576)
        assert np.abs(alone[:, 0] - padded[:, 1]).max() < 1e-3 * max(1.0, float(np.abs(alone).max()))
    last, mean = batch_states(model, [long], 0, "last"), batch_states(model, [long], 0, "mean")
    assert not np.allclose(last[5:], mean[5:])  # two different positions, two different answers


def test_extraction_streams_chunks_skips_long_prompts_and_resumes(smollm2: tuple[Any, Any, Any], tmp_path: Path) -> None:
    model, tokenizer, backend = smollm2
    prompts = {f"h{i}": text for i, text in enumerate(HARMLESS)}
    prompts["long"] = "word " * 200
    store = StateStore.open(tmp_path, {"test": 1}, list(prompts))
    stats = extract_to_store(model, lambda t: encode(backend, t), prompts, store, pad_id=tokenizer.pad_token_id,
                             batch_size=2, chunk_rows=3, max_length=64)
    assert stats.extracted == 7 and list(stats.skipped) == ["long"] and "over --max-length 64" in stats.skipped["long"]
    # batches of 2, 2, 2, 1 fill chunks of exactly 3 rows (a batch may straddle two), the rest at the end
    assert [len(c["rows"]) for c in store.index["chunks"]] == [3, 3, 1] and store.complete
    states = store.layers(["h6", "h0"]).layer(30)
    direct = batch_states(model, [encode(backend, HARMLESS[6]), encode(backend, HARMLESS[0])],
                          tokenizer.pad_token_id, "last")[30]
    assert np.abs(states - direct).max() < 1e-3 * max(1.0, float(np.abs(direct).max()))
    again = extract_to_store(model, lambda t: encode(backend, t), prompts, StateStore.open(tmp_path, {"test": 1}, list(prompts)),
                             pad_id=tokenizer.pad_token_id, max_length=64)
    assert (again.extracted, again.reused, list(again.skipped)) == (0, 7, ["long"])


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    base = tmp_path_factory.mktemp("probe")
    out, cache = base / "out", base / "cache"
    result = runner.invoke(app, ["probe", "--model", "smollm2", "--config", "core", "--limit", "25",
                                 "--out", str(out), "--cache-dir", str(cache), *FAST])
    return out, cache, result


def test_the_probe_command_writes_every_layer_level_baseline_and_plot(probe_run: tuple[Path, Path, Any]) -> None:
    out, _, result = probe_run
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    p = report["probes"]
    assert report["report_version"] == 1 and report["kind"] == "probes" and report["tasks"] == {}
    assert [row["layer"] for row in p["refusal"]["layers"]] == list(range(31))
    assert set(p["refusal"]["text_baselines"]) == {"bag_of_words", "bag_of_embeddings"}
    final = p["levels"][-1]
    for scale in ("severity", "cost"):
        present = {k for k, v in p["counts"][f"by_{scale}"].items() if v}
        assert present == {"1", "2", "3", "4", "5"}
        assert all(final[scale][k]["score"] is not None and final[scale][k]["n"] > 0 for k in present)
    for target in ("severity", "cost"):
        decode = p["decode"][target]
        assert len(decode["layers"]) == 31 and set(decode["text_baselines"]) == {"bag_of_words", "bag_of_embeddings"}
        assert all(len(layer["spearman"]) >= 5 and "shuffled_p95" in layer["spearman"] for layer in decode["layers"])
    line = p["summary"]["line"]
    assert line.startswith("smollm2: severity decodable: ") and "cost decodable beyond text: " in line
    assert p["summary"]["severity"]["decodable"] in (True, False) and p["summary"]["cost"]["decodable"] in (True, False)
    assert "words" in line and "embeddings" in line
    assert p["summary"]["cost"]["statistic"] == "beyond_text_within_severity"
    assert sorted(report["files"]["plots"]) == sorted(["probe_accuracy.png", "activation_severity.png",
                                                       "activation_cost.png", "activation_final_layer.png",
                                                       "decodability.png"])
    assert all((out / name).stat().st_size > 5000 for name in report["files"]["plots"])
    assert "severity decodable" in result.output and "activation score by cost" in result.output


def test_no_prompt_text_is_written(probe_run: tuple[Path, Path, Any]) -> None:
    out, _, _ = probe_run
    chosen = probe_set("core", contrast="core_benign", limit=25, seed=0)
    written = "\n".join((out / name).read_text() for name in ("report.json", "probes.json", "items.json", "report.md"))
    assert all(item.text not in written for item in chosen.items)
    assert all(item.sha256 in written for item in chosen.items)


def test_a_second_run_reuses_the_cache_and_the_rows_join_an_entry(probe_run: tuple[Path, Path, Any], tmp_path: Path) -> None:
    from eh_bench.submission.entries import build_entry

    out, cache, _ = probe_run
    again = runner.invoke(app, ["probe", "--limit", "25", "--out", str(tmp_path / "again"), "--cache-dir", str(cache),
                                "--no-plots", *FAST])
    assert again.exit_code == 0, again.output
    probes = json.loads((tmp_path / "again" / "report.json").read_text())["probes"]
    assert probes["extraction"]["extracted"] == 0 and probes["extraction"]["reused"] == 50
    report = json.loads((out / "report.json").read_text())
    main = make_report(model_id="smollm2", revision=report["model"]["revision"])
    main["judge"] = {k: report["judge"][k] for k in ("id", "revision", "backend")}
    main["dataset"].update(name=report["dataset"]["name"], version=report["dataset"]["version"])
    entry = build_entry([write_report(tmp_path / "main", main), out])
    rows = json.loads((out / "probes.json").read_text())
    assert entry["probes"] == rows
    assert [r["target"] for r in rows] == ["refusal", "refusal", "severity", "cost"]
    assert rows[0]["summary"] == report["probes"]["summary"]["line"]
    assert set(rows[0]["score_by_cost"]) == {"1", "2", "3", "4", "5"} and rows[0]["score_layer"] == 30


def test_behaviour_labels_come_from_the_models_own_answers(tmp_path: Path, probe_run: tuple[Path, Path, Any]) -> None:
    _, cache, _ = probe_run
    result = runner.invoke(app, ["probe", "--labels", "behaviour", "--limit", "12", "--max-new-tokens", "8",
                                 "--out", str(tmp_path), "--cache-dir", str(cache), "--no-plots", *FAST])
    assert result.exit_code == 0, result.output
    p = json.loads((tmp_path / "report.json").read_text())
    labels = p["probes"]["labels"]
    assert labels["source"] == "behaviour" and labels["settings"]["judge"]["id"] == "refusal"
    assert labels["label_1"] + labels["label_0"] + labels["unlabelled"] == 12
    assert p["judge"]["used_for_labels"] is True and p["probes"]["counts"]["n_benign"] == 0
    if min(labels["label_1"], labels["label_0"]) < 4:  # a model that (almost) never refuses: said, not scored
        assert "at least 4 requests per class" in p["probes"]["unscored"]["refusal"]
        assert p["probes"]["refusal"] is None and p["probes"]["levels"] == []
    else:
        assert len(p["probes"]["refusal"]["layers"]) == 31
    assert p["probes"]["decode"]["severity"] is not None  # decodability needs no refusal label
