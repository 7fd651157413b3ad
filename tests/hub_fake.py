"""An in-memory stand-in for the Hugging Face Hub's HTTP API, served through an httpx2 mock transport.

Only the network edge is fake: ``huggingface_hub``'s real client (HfApi.create_commit, list_repo_refs,
list_repo_files, hf_hub_download) builds the requests. The fake keeps a linear history per dataset
repo and, like the Hub, refuses a commit whose ``parentCommit`` is not the branch head (HTTP 412).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx2
import huggingface_hub
from huggingface_hub.utils import _http

ENDPOINT = "https://huggingface.co"
ZERO = "0" * 40


@dataclass
class Repo:
    commits: list[tuple[str, dict[str, bytes]]] = field(default_factory=lambda: [(ZERO, {})])

    @property
    def head(self) -> tuple[str, dict[str, bytes]]:
        return self.commits[-1]

    def at(self, rev: str) -> dict[str, bytes] | None:
        if rev == "main":
            return self.head[1]
        for sha, files in self.commits:
            if sha == rev:
                return files
        return None


class FakeHub:
    """Dataset repos in memory; counts requests per kind so tests can see retries."""

    def __init__(self, repos: list[str]) -> None:
        self.repos = {name: Repo() for name in repos}
        self.lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.conflicts = 0
        #: Set to a number to make the next N commits fail with 412 even when the parent is right.
        self.force_conflicts = 0

    def _count(self, kind: str) -> None:
        self.calls[kind] = self.calls.get(kind, 0) + 1

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = unquote(request.url.path)
        with self.lock:
            if m := re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/refs", path):
                self._count("refs")
                repo = self.repos.get(m[1])
                if repo is None:
                    return self._not_found()
                return httpx2.Response(200, json={"branches": [{"name": "main", "ref": "refs/heads/main",
                                                                "targetCommit": repo.head[0]}],
                                                  "converts": [], "tags": []})
            if m := re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/tree/([^/]+)(/.*)?", path):
                self._count("tree")
                files = self.repos[m[1]].at(m[2]) if m[1] in self.repos else None
                if files is None:
                    return self._not_found()
                return httpx2.Response(200, json=[
                    {"type": "file", "path": p, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                    for p, b in sorted(files.items())
                ])
            if m := re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/preupload/([^/]+)", path):
                self._count("preupload")
                body = json.loads(request.content)
                return httpx2.Response(200, json={"files": [
                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                    for f in body["files"]
                ]})
            if m := re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/commit/([^/]+)", path):
                self._count("commit")
                return self._commit(m[1], request.content)
            if m := re.fullmatch(r"/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
                self._count("download")
                repo = self.repos.get(m[1])
                files = repo.at(m[2]) if repo else None
                if files is None or m[3] not in files:
                    return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, json={"error": "no file"})
                data = files[m[3]]
                sha = m[2] if m[2] != "main" else repo.head[0]  # type: ignore[union-attr]
                headers = {"X-Repo-Commit": sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                           "Content-Length": str(len(data))}
                return httpx2.Response(200, headers=headers, content=b"" if request.method == "HEAD" else data)
        return httpx2.Response(404, json={"error": f"fake hub: no route for {request.method} {path}"})

    @staticmethod
    def _not_found() -> httpx2.Response:
        return httpx2.Response(404, headers={"X-Error-Code": "RepoNotFound"}, json={"error": "Repository not found"})

    def _commit(self, repo_id: str, body: bytes) -> httpx2.Response:
        repo = self.repos[repo_id]
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]["value"]
        if self.force_conflicts > 0 or header.get("parentCommit", repo.head[0]) != repo.head[0]:
            self.force_conflicts = max(0, self.force_conflicts - 1)
            self.conflicts += 1
            return httpx2.Response(412, json={"error": "A commit has happened since. Please refresh and try again."})
        files = dict(repo.head[1])
        for op in lines[1:]:
            if op["key"] == "file":
                files[op["value"]["path"]] = base64.b64decode(op["value"]["content"])
            elif op["key"] == "deletedFile":
                files.pop(op["value"]["path"], None)
        sha = hashlib.sha1(f"{repo.head[0]}{len(repo.commits)}{header['summary']}".encode()).hexdigest()
        repo.commits.append((sha, files))
        return httpx2.Response(200, json={"commitUrl": f"{ENDPOINT}/datasets/{repo_id}/commit/{sha}", "commitOid": sha,
                                          "pullRequestUrl": None})

    def files(self, repo: str) -> dict[str, bytes]:
        return dict(self.repos[repo].head[1])

    def records(self, repo: str) -> list[dict[str, Any]]:
        return [json.loads(b) for p, b in sorted(self.files(repo).items()) if p.endswith(".json")]


@contextmanager
def fake_hub(repos: list[str]) -> Iterator[FakeHub]:
    """Route every huggingface_hub HTTP call to a :class:`FakeHub` for the duration of the block."""
    hub = FakeHub(repos)

    def factory() -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(hub.handle),
                             event_hooks={"request": [_http.hf_request_event_hook]}, follow_redirects=True)

    huggingface_hub.set_client_factory(factory)
    try:
        yield hub
    finally:
        huggingface_hub.set_client_factory(_http.default_client_factory)
