"""The labelled requests imported responses answer: one dataset config's rows, with cost and severity.

The rows come from, in this order of preference:

1. a built dataset folder or Hub id (``dataset``): the parquet the lm-eval tasks read, fingerprinted by
   its manifest;
2. the packaged core sets (``core``, ``core_benign``);
3. the config's public sources (``EH_SOURCES_DIR`` -> cache -> pinned download, sha256-checked) joined
   with the shipped label files (:mod:`eh_bench.dataset.labels`); the label files' SHA-256 is recorded.

:meth:`RequestIndex.find` matches a response to its request by dataset id (``jbb:12``; a bare ``12``
when the config has one source) or by the SHA-256 of the stripped request text, never by loose text.
A label whose prompt hash does not match the source row is left out (the row stays unlabelled), as in
a dataset build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import ConfigError
from eh_bench.rubric import parse_level
from eh_bench.sources.base import Row, prompt_sha256

#: What the dataset record says when the rows came from the sources and the shipped labels.
SHIPPED_LABELS: Final = "public sources + label files shipped with eh-bench"


@dataclass(frozen=True)
class Request:
    """One labelled request of the config (``cost``/``severity`` None when it carries no label)."""

    id: str
    prompt: str
    prompt_sha256: str
    context: str | None
    cost: int | None
    severity: int | None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class RequestIndex:
    """A config's requests by id and by prompt hash, and the report's ``dataset`` record for them."""

    config: str
    requests: dict[str, Request]
    dataset: dict[str, Any]
    by_sha: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for request in self.requests.values():
            self.by_sha.setdefault(request.prompt_sha256, request.id)

    @property
    def sources(self) -> list[str]:
        """The sources of the config's ids (``jbb`` of ``jbb:12``), sorted."""
        return sorted({rid.partition(":")[0] for rid in self.requests})

    def find(self, request_id: str | None = None, prompt: str | None = None) -> Request | None:
        """The request named by ``request_id`` (else the one whose text hashes like ``prompt``), or None.

        A bare id (``12``) is read as ``<source>:12`` when the config has a single source.
        """
        if request_id is not None and request_id.strip():
            rid = request_id.strip()
            if ":" not in rid and len(self.sources) == 1:
                rid = f"{self.sources[0]}:{rid}"
            return self.requests.get(rid)
        if prompt is not None and prompt.strip():
            found = self.by_sha.get(prompt_sha256(prompt))
            return self.requests[found] if found is not None else None
        return None


def _request(row: Mapping[str, Any]) -> Request:
    context = row.get("context")
    dup = row.get("duplicate_of")
    prompt = str(row.get("prompt") or "").strip()
    return Request(
        id=str(row["id"]),
        prompt=prompt,
        prompt_sha256=str(row.get("prompt_sha256") or prompt_sha256(prompt)),
        context=context if isinstance(context, str) and context.strip() else None,
        cost=parse_level(row.get("cost")),
        severity=parse_level(row.get("severity")),
        duplicate_of=dup if isinstance(dup, str) and dup else None,
    )


def _index(config: str, rows: Iterable[Mapping[str, Any]], dataset: dict[str, Any]) -> RequestIndex:
    return RequestIndex(config=config, requests={r.id: r for r in map(_request, rows)}, dataset=dataset)


def labels_fingerprint(paths: Iterable[Path]) -> str:
    """SHA-256 of one label file, or over ``name<TAB>sha256`` lines of several (the labels' version)."""
    from eh_bench.sources.fetch import file_sha256

    hashes = [(p.name, file_sha256(p)) for p in sorted(paths)]
    if len(hashes) == 1:
        return hashes[0][1]
    return hashlib.sha256("\n".join(f"{n}\t{h}" for n, h in hashes).encode("utf-8")).hexdigest()


def labelled_requests(
    config: str,
    *,
    dataset: str | None = None,
    sources_dir: Path | str | None = None,
    labels_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    download: bool = True,
    allow_changed_sources: bool = False,
) -> RequestIndex:
    """The labelled requests of ``config`` (see the module docstring for where they come from).

    Args:
        config: a dataset config name (:data:`eh_bench.dataset.configs.CONFIGS`).
        dataset: a built dataset folder or Hub id to read the config from.
        sources_dir: local benchmark folder (default ``$EH_SOURCES_DIR``).
        labels_dir: label files to join (default: the shipped ones).
        cache_dir: download cache of the sources.
        download: fetch sources that are not found locally.
        allow_changed_sources: accept source bytes whose SHA-256 differs from the pin.

    Raises:
        ConfigError: an unknown config.
        SourceError: a missing or tampered source file.
        LabelError: a malformed label file.
    """
    from eh_bench.dataset.configs import CONFIGS
    from eh_bench.dataset.core import CORE, CORE_BENIGN

    if config not in CONFIGS:
        raise ConfigError(f"unknown dataset config {config!r}; choose one of: {', '.join(CONFIGS)}")
    if dataset is not None:
        from eh_bench.dataset.load import load_config
        from eh_bench.report.document import dataset_record

        return _index(config, load_config(dataset, config).to_list(), dataset_record(dataset, None, [config]))
    if config in (CORE, CORE_BENIGN):
        from eh_bench.dataset.load import core_rows
        from eh_bench.report.document import dataset_record

        return _index(config, core_rows(config == CORE_BENIGN), dataset_record(None, None, [config]))

    from eh_bench.sources import load_source

    loaded = []
    for source in CONFIGS[config].sources:
        found = load_source(
            source, sources_dir=sources_dir, cache_dir=cache_dir, download=download,
            allow_changed_sources=allow_changed_sources,
        )  # fmt: skip
        loaded.append((source, found.rows, {
            "relpath": found.file.spec.relpath, "sha256": found.file.sha256, "pinned": found.file.matches,
        }))  # fmt: skip
    return index_rows(config, loaded, labels_dir)


def index_rows(
    config: str, parts: Iterable[tuple[str, Iterable[Row], Mapping[str, Any]]], labels_dir: Path | str | None = None
) -> RequestIndex:
    """Join the label files onto source rows and index them.

    Args:
        config: the dataset config the rows make up.
        parts: ``(source, rows, file record)`` per source: the rows as read, and the file they came from
            (``relpath``, ``sha256``, ``pinned``) for the dataset record.
        labels_dir: label files (default: the shipped ones).
    """
    from eh_bench.dataset.configs import DATASET_NAME, DATASET_VERSION
    from eh_bench.dataset.labels import join_labels, label_path, read_label_file

    rows: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    label_files: list[Path] = []
    rubric_versions: set[str] = set()
    for source, source_rows, file in parts:
        path = label_path(source, labels_dir)
        joined, _ = join_labels(source_rows, read_label_file(path, source), source)
        rows += [row.as_dict() for row in joined]
        rubric_versions.update(row.rubric_version for row in joined if row.rubric_version)
        label_files.append(path)
        files.append(dict(file))
    record = {
        "name": DATASET_NAME,
        "version": DATASET_VERSION,
        "manifest_sha256": None,
        "path": SHIPPED_LABELS,
        "labels_sha256": labels_fingerprint(label_files),
        "rubric_version": ",".join(sorted(rubric_versions)) or None,
        "sources": files,
    }
    return _index(config, rows, record)
