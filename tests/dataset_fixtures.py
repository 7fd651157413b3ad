"""Small stand-in benchmark files, label files and core files for dataset tests.

Every text here is harmless and written for these tests; only the file layouts (paths, columns,
id conventions) follow the real benchmarks. Hashes are computed here with hashlib, independently of
the code under test.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

REAL_SOURCES = os.environ.get("EH_SOURCES_DIR")
HAS_REAL_SOURCES = bool(REAL_SOURCES) and Path(str(REAL_SOURCES), "harmbench").is_dir()

HARMBENCH_HEADER = ["Behavior", "FunctionalCategory", "SemanticCategory", "Tags", "ContextString", "BehaviorID"]
HARMBENCH = [
    ["Write a short poem about autumn leaves", "standard", "misinformation_disinformation", "", "", "poem_autumn"],
    ["Summarise the plot of a famous fairy tale", "standard", "illegal", "", "", "fairy_tale_summary"],
    ["Translate this paragraph into French", "contextual", "harmful", "context",
     "The weather today is sunny with a light breeze.\nBring a hat.", "translate_weather"],
    ["Translate this paragraph into French", "contextual", "harmful", "context",
     "A recipe for pancakes needs flour, eggs and milk.", "translate_pancakes"],
    ["Recite the words of a well-known song", "copyright", "copyright", "lyrics, hash_check", "", "lyrics_some_song"],
    ["  Describe a sunrise over the sea ", "standard", "harassment_bullying", "", "", "sunrise_sea"],
]  # fmt: skip
ADVBENCH_HEADER = ["goal", "target"]
ADVBENCH = [
    ["write a short poem about  autumn leaves.", "Sure, here is a poem"],
    ["Give three tips for watering houseplants", "Sure, here are three tips"],
    ["Explain how rainbows form", "Sure, here is how rainbows form"],
]
JBB_HEADER = ["Index", "Goal", "Target", "Behavior", "Category", "Source"]
JBB = [
    ["0", "Explain how rainbows form", "Sure, here is", "Rainbows", "Expert advice", "AdvBench"],
    ["1", "List five fruits that are high in vitamin C", "Sure, here is", "Fruit", "Physical harm", "Original"],
]
JBB_BENIGN = [
    ["0", "Name three colours of the rainbow", "Sure, here is", "Rainbows", "Expert advice", "Original"],
    ["1", "Suggest a name for a pet goldfish", "Sure, here is", "Fruit", "Privacy", "Original"],
]
STRONGREJECT_HEADER = ["category", "source", "forbidden_prompt"]
STRONGREJECT = [
    ["Sexual content", "custom", "Describe the rules of chess in two sentences"],
    ["Violence", "DAN", "Give three tips for watering houseplants!"],
]
DONOTANSWER_HEADER = ["id", "risk_area", "types_of_harm", "specific_harms", "question"]
DONOTANSWER = [
    ["0", "Information Hazards", "Risks from leaking sensitive information", "Privacy: stand-in", "What is the capital of France?"],
    ["1", "Malicious Uses", "Assisting illegal activities", "Stand-in harm", "How many legs does a spider have?"],
]  # fmt: skip

#: (relative path, header, rows, line terminator) of each stand-in file.
FILES: dict[str, tuple[str, list[str], list[list[str]], str]] = {
    "harmbench": ("harmbench/harmbench_behaviors_text_all.csv", HARMBENCH_HEADER, HARMBENCH, "\r\n"),
    "advbench": ("advbench/harmful_behaviors.csv", ADVBENCH_HEADER, ADVBENCH, "\n"),
    "jbb": ("jailbreakbench/harmful-behaviors.csv", JBB_HEADER, JBB, "\n"),
    "jbb_benign": ("jailbreakbench/benign-behaviors.csv", JBB_HEADER, JBB_BENIGN, "\n"),
    "strongreject": ("strongreject/strongreject_dataset.csv", STRONGREJECT_HEADER, STRONGREJECT, "\n"),
    "donotanswer": ("do-not-answer/do_not_answer_en.csv", DONOTANSWER_HEADER, DONOTANSWER, "\n"),
}


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def expected(source: str) -> list[tuple[str, str]]:
    """``(source_id, raw prompt)`` of the stand-in rows an adapter must emit (copyright excluded)."""
    if source == "harmbench":
        return [(r[5], r[0]) for r in HARMBENCH if r[1] != "copyright"]
    if source in ("advbench", "strongreject"):
        rows = ADVBENCH if source == "advbench" else STRONGREJECT
        return [(str(i), r[0] if source == "advbench" else r[2]) for i, r in enumerate(rows)]
    if source in ("jbb", "jbb_benign"):
        return [(r[0], r[1]) for r in (JBB if source == "jbb" else JBB_BENIGN)]
    return [(r[0], r[4]) for r in DONOTANSWER]


def write_sources(root: Path, only: set[str] | None = None) -> Path:
    """Write the stand-in benchmark files under ``root`` in the ``EH_SOURCES_DIR`` layout."""
    for name, (rel, header, rows, eol) in FILES.items():
        if only is not None and name not in only:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator=eol)
            writer.writerow(header)
            writer.writerows(rows)
    return root


LABEL_HEADER = [
    "source", "source_id", "prompt_sha256", "expertise", "equipment", "time", "legality", "cost",
    "severity", "harm_category", "rationale", "annotator", "rubric_version",
]  # fmt: skip
DEFAULT_LEVELS = {"expertise": 1, "equipment": 1, "time": 1, "legality": 1, "cost": 1, "severity": 2}


def label_row(source: str, source_id: str, prompt: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": source,
        "source_id": source_id,
        "prompt_sha256": sha(prompt),
        **DEFAULT_LEVELS,
        "harm_category": "none" if "benign" in source else "misinformation",
        "rationale": "stand-in label for a test, with a comma",
        "annotator": "test-annotator",
        "rubric_version": "1",
    }
    row.update(changes)
    return row


def write_label_file(path: Path, rows: list[Mapping[str, Any]], header: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header or LABEL_HEADER, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _level(prompt: str) -> int:
    words = " ".join(prompt.lower().split()).rstrip(".!?")
    return 1 + sum(map(ord, words)) % 5


def write_labels(
    root: Path,
    sources: tuple[str, ...] = ("harmbench", "advbench", "jbb", "jbb_benign", "strongreject"),
    skip: set[str] | None = None,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write a label file per source, labelling every stand-in row except the ids in ``skip``.

    ``changes`` maps ``"<source>:<source_id>"`` to column overrides. Cost and severity vary with the
    text (so tables have more than one level) and identical requests share one judgement.
    """
    for source in sources:
        rows = []
        for sid, prompt in expected(source):
            key = f"{source}:{sid}"
            if skip and key in skip:
                continue
            level = _level(prompt)
            row = label_row(source, sid, prompt, cost=level, severity=1 + (level + 1) % 5)
            rows.append({**row, **(changes or {}).get(key, {})})
        write_label_file(root / f"{source}.csv", rows)
    return root


CORE = [
    {"source_id": "core-001", "prompt": "Write a polite note asking a neighbour to water my plants.", "cost": 1, "severity": 1},
    {"source_id": "core-002", "prompt": "Draft a short speech for a friend's birthday.", "cost": 3, "severity": 2},
    {"source_id": "core-003", "prompt": "Plan a weekend hiking trip in the mountains.", "cost": 5, "severity": 4},
]
CORE_BENIGN = [
    {"source_id": "benign-001", "prompt": "Explain how to bake bread at home.", "cost": 1, "severity": 1},
    {"source_id": "benign-002", "prompt": "Suggest a stretching routine for the morning.", "cost": 2, "severity": 1},
]


def write_core(root: Path) -> Path:
    """Write ``core.jsonl`` and ``core_benign.jsonl`` with full label fields."""
    root.mkdir(parents=True, exist_ok=True)
    for name, rows in (("core", CORE), ("core_benign", CORE_BENIGN)):
        with (root / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                full = {
                    **row,
                    "expertise": row["cost"],
                    "equipment": 1,
                    "time": 2,
                    "legality": 1,
                    "harm_category": "none" if name == "core_benign" else "privacy",
                    "rationale": "stand-in rationale",
                }
                fh.write(json.dumps(full) + "\n")
    return root


def fixture_tree(tmp: Path) -> dict[str, Path]:
    """Sources, labels, core data and cache folders for a full fixture build."""
    return {
        "sources_dir": write_sources(tmp / "sources"),
        "labels_dir": write_labels(tmp / "labels"),
        "data_dir": write_core(tmp / "data"),
        "cache_dir": tmp / "cache",
    }


@contextlib.contextmanager
def mock_hub(handler: Callable[[Any], Any]) -> Iterator[list[Any]]:
    """Route every huggingface_hub HTTP call through ``handler`` (an httpx2 MockTransport).

    Yields the list of requests made; the default client factory is restored afterwards.
    """
    import httpx2
    from huggingface_hub.utils import _http

    seen: list[httpx2.Request] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        request.read()
        seen.append(request)
        response = handler(request)
        assert isinstance(response, httpx2.Response)
        return response

    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(record)))
    _http.close_session()
    try:
        yield seen
    finally:
        _http.set_client_factory(_http.default_client_factory)
        _http.close_session()


def serve_folder(root: Path, repo_id: str, sha: str = "c" * 40) -> Callable[[Any], Any]:
    """A mock Hub that serves ``root`` as dataset ``repo_id`` (info, tree listing, resolve); else 404."""
    import httpx2

    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def tree(prefix: str, recursive: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for name in files:
            if prefix and not name.startswith(prefix + "/"):
                continue
            rest = name[len(prefix) + 1 :] if prefix else name
            if "/" in rest and not recursive:
                folder = (prefix + "/" if prefix else "") + rest.split("/")[0]
                if folder not in dirs:
                    dirs.add(folder)
                    out.append({"type": "directory", "path": folder, "oid": "0" * 40, "size": 0})
                continue
            data = (root / name).read_bytes()
            out.append({"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()})
        return out

    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        api = f"/api/datasets/{repo_id}"
        if path.startswith(f"{api}/tree/"):
            prefix = path.split("/tree/", 1)[1].partition("/")[2]
            return httpx2.Response(200, json=tree(prefix, "recursive=true" in str(request.url.query).lower()))
        if path == api or path.startswith(f"{api}/revision/"):
            siblings = [{"rfilename": name} for name in files]
            return httpx2.Response(200, json={"id": repo_id, "sha": sha, "private": False, "gated": "auto", "siblings": siblings})
        resolve = f"/datasets/{repo_id}/resolve/"
        if path.startswith(resolve):
            name = path[len(resolve) :].partition("/")[2]
            if name not in files:
                return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, json={"error": "not found"})
            data = (root / name).read_bytes()
            headers = {"X-Repo-Commit": sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"', "Content-Length": str(len(data))}
            return httpx2.Response(200, headers=headers, content=data if request.method == "GET" else b"")
        return httpx2.Response(404, json={"error": "not found"})

    return handler
