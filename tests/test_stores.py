"""Leaderboard stores: the local directory store (with many concurrent submitter processes) and the
Hub dataset pair (real huggingface_hub client, fake Hub at the HTTP boundary)."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import pytest
from hub_fake import fake_hub
from leaderboard_fixtures import entry_variant, make_entry

from eh_bench.errors import ConfigError, InputError
from eh_bench.submission.schema import EntryValidationError, entry_name
from eh_bench.submission.stores import DuplicateEntryError, LocalStore, StoreError, open_store
from eh_bench.submission.stores.hub import HubStore

N_PROCESSES = 6
PER_PROCESS = 5


@pytest.fixture(scope="module")
def entry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_entry(tmp_path_factory.mktemp("stores"))


# ----------------------------------------------------------------------------- local store


def test_push_review_and_results(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    record = store.push(entry, "alice")
    assert (record.status, record.submitted_by, record.name) == ("PENDING", "alice", entry_name(entry))
    assert store.results() == []
    assert [r.name for r in store.records("PENDING")] == [record.name]
    verified = store.set_status(record.name, "VERIFIED")
    assert verified.status == "VERIFIED" and verified.updated_time
    assert [r.entry for r in store.results()] == [entry]
    rejected = store.set_status(record.name, "REJECTED", reason="judge revision\nnot pinned")
    assert rejected.reason == "judge revision not pinned"
    assert store.results() == [] and store.get(record.name).status == "REJECTED"
    with pytest.raises(InputError, match="cannot be set"):
        store.set_status(record.name, "PENDING")
    with pytest.raises(InputError, match="no entry named"):
        store.set_status("nobody--0000", "VERIFIED")


def test_duplicates_are_refused(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    store.push(entry, "alice")
    copy = json.loads(json.dumps(entry))
    copy["submitter"]["name"] = "mallory"
    copy["metrics"]["n_unscored"] = 3  # other numbers, same model revision, dataset, judge, likelihood
    with pytest.raises(DuplicateEntryError, match=r"already stored as .* \(status PENDING\)"):
        store.push(copy, "mallory")
    assert len(store.records()) == 1
    copy["model"]["revision"] = "another-revision"
    store.push(copy, "mallory")
    assert len(store.records()) == 2


def test_invalid_entries_never_reach_the_store(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    bad = json.loads(json.dumps(entry))
    bad["metrics"]["asr"]["value"] = float("nan")
    with pytest.raises(EntryValidationError, match="must be finite"):
        store.push(bad, "x")
    assert store.records() == [] and not list(tmp_path.rglob("*.json"))


def test_names_cannot_escape_the_store(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = LocalStore(tmp_path / "store")
    hostile = json.loads(json.dumps(entry))
    hostile["model"]["id"] = "../../../../tmp/evil"
    with pytest.raises(EntryValidationError, match="is not a model id"):
        store.push(hostile, "x")
    # A valid id with odd characters still makes a safe file name (derived from the id and a hash).
    hostile["model"]["id"] = "org/evil@v1:latest"
    record = store.push(hostile, "x")
    assert (tmp_path / "store" / "requests" / f"{record.name}.json").is_file()
    assert record.name.startswith("org-evil-v1-latest--")
    for name in ("../results/x", "..", "/etc/passwd"):
        with pytest.raises(InputError, match="is not an entry name"):
            store.set_status(name, "VERIFIED")


def test_corrupt_or_tampered_records_are_skipped(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    record = store.push(entry, "a")
    store.set_status(record.name, "VERIFIED")
    good = tmp_path / "results" / f"{record.name}.json"
    tampered = json.loads(good.read_text())
    tampered["entry"]["metrics"]["asr"]["value"] = 9
    other = entry_variant(entry, 1)
    (tmp_path / "results" / f"{entry_name(other)}.json").write_text(json.dumps({**tampered, "name": entry_name(other)}))
    (tmp_path / "results" / "garbage--1.json").write_text("{not json")
    assert [r.name for r in store.results()] == [record.name]
    with pytest.raises(StoreError, match="stored entry is invalid"):
        store._read(tmp_path / "results" / f"{entry_name(other)}.json")


def _push_many(root: str, entries: list[dict[str, Any]], barrier: Any) -> list[str]:
    store = LocalStore(root)
    barrier.wait()
    outcomes = []
    for entry in entries:
        try:
            outcomes.append(store.push(entry, "proc").name)
        except DuplicateEntryError:
            outcomes.append("DUPLICATE")
    return outcomes


@pytest.mark.slow
def test_many_processes_push_at_once_every_entry_stored_exactly_once(tmp_path: Path, entry: dict[str, Any]) -> None:
    """Each process pushes its own entries plus one shared entry that everybody races for."""
    shared = entry_variant(entry, 99_999)
    jobs = [[entry_variant(entry, p * 100 + i) for i in range(PER_PROCESS)] + [shared] for p in range(N_PROCESSES)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(N_PROCESSES)
        with ctx.Pool(N_PROCESSES) as pool:
            results = pool.starmap(_push_many, [(str(tmp_path), job, barrier) for job in jobs])
    stored = LocalStore(tmp_path).records()
    names = [r.name for r in stored]
    expected = {entry_name(e) for job in jobs for e in job}
    assert len(names) == len(set(names)) == len(expected) == N_PROCESSES * PER_PROCESS + 1
    assert set(names) == expected
    shared_wins = [o for outcome in results for o in outcome if o == entry_name(shared)]
    assert len(shared_wins) == 1 and sum(o == "DUPLICATE" for out in results for o in out) == N_PROCESSES - 1
    assert not list((tmp_path / "requests").glob(".tmp-*")), "temporary files left behind"


def test_open_store_dispatch(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path), LocalStore)
    with pytest.raises(ConfigError, match="write hf://datasets/ORG/NAME"):
        open_store("hf://models/org/x")
    with pytest.raises(ConfigError, match="write hf://datasets/ORG/NAME"):
        open_store("hf://datasets/org/../x")


# ----------------------------------------------------------------------------- Hub store

REQUESTS_REPO, RESULTS_REPO = "eh-org/board-requests", "eh-org/board-results"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with fake_hub([REQUESTS_REPO, RESULTS_REPO]) as fake:
        yield fake


def _hub_store(tmp_path: Path, **kwargs: Any) -> HubStore:
    return HubStore("hf://datasets/eh-org/board", token="hf_test", cache_dir=tmp_path / "cache",
                    sleep=lambda s: None, **kwargs)


def test_hub_push_review_and_read_back(tmp_path: Path, hub: Any, entry: dict[str, Any]) -> None:
    store = _hub_store(tmp_path)
    assert store.repos == {"requests": REQUESTS_REPO, "results": RESULTS_REPO}
    record = store.push(entry, "alice")
    stored = hub.records(REQUESTS_REPO)
    assert [(r["name"], r["status"], r["submitted_by"]) for r in stored] == [(record.name, "PENDING", "alice")]
    assert stored[0]["entry"] == entry
    assert list(hub.files(REQUESTS_REPO)) == [f"entries/{record.name}.json"]
    with pytest.raises(DuplicateEntryError, match="already stored"):
        store.push(entry, "bob")
    assert store.results() == []
    store.set_status(record.name, "VERIFIED")
    assert [r["status"] for r in hub.records(RESULTS_REPO)] == ["VERIFIED"]
    assert [r.entry for r in store.results()] == [entry]
    assert store.get(record.name).status == "VERIFIED"
    store.set_status(record.name, "REJECTED", reason="bad judge")
    assert hub.files(RESULTS_REPO) == {} and store.records("REJECTED")[0].reason == "bad judge"


def test_hub_push_retries_on_conflict(tmp_path: Path, hub: Any, entry: dict[str, Any]) -> None:
    hub.force_conflicts = 3
    store = _hub_store(tmp_path)
    store.push(entry, "alice")
    assert hub.conflicts == 3 and hub.calls["commit"] == 4
    assert len(hub.records(REQUESTS_REPO)) == 1
    hub.force_conflicts = 100
    with pytest.raises(StoreError, match=r"kept moving \(2 conflicting commits\)"):
        _hub_store(tmp_path, max_attempts=2).push(entry_variant(entry, 1), "bob")
    assert len(hub.records(REQUESTS_REPO)) == 1


def test_hub_concurrent_pushes_never_lose_an_entry(tmp_path: Path, hub: Any, entry: dict[str, Any]) -> None:
    """Threads race on one branch; parent_commit makes the losers retry instead of overwriting."""
    n_threads, per_thread = 6, 3
    shared = entry_variant(entry, 7_777)
    errors: list[BaseException] = []
    duplicates: list[str] = []
    barrier = threading.Barrier(n_threads)

    def work(t: int) -> None:
        store = _hub_store(tmp_path / f"t{t}")
        barrier.wait()
        for e in [entry_variant(entry, t * 10 + i) for i in range(per_thread)] + [shared]:
            try:
                store.push(e, f"user{t}")
            except DuplicateEntryError:
                duplicates.append(str(t))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = [r["name"] for r in hub.records(REQUESTS_REPO)]
    assert len(names) == len(set(names)) == n_threads * per_thread + 1
    assert len(duplicates) == n_threads - 1
    # Every commit is linear: each one's files include all the earlier ones.
    history = hub.repos[REQUESTS_REPO].commits
    assert all(set(a[1]) <= set(b[1]) for a, b in itertools.pairwise(history))
