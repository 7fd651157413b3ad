"""Hashed text features of (request, response) pairs: pure Python and numpy, stable across machines.

A feature set is a tuple of *namespaces*; each namespace turns a pair into hashed n-gram indices in its
own block of ``2**bits`` columns, with values ``log(1 + count)`` scaled to unit length within the
namespace (so a long response does not outweigh the request).

==================  ==============================================================================
namespace           what
==================  ==============================================================================
``resp_words``      word 1-2-grams of the response's first :data:`MAX_RESPONSE_CHARS` characters
``resp_head``       word 1-3-grams of the response's first :data:`HEAD_TOKENS` tokens (refusals)
``resp_chars``      character 3-5-grams of the response's first :data:`MAX_CHAR_CHARS` characters
``req_words``       word 1-grams of the request
``overlap``         two dense values: share of the request's content words the response repeats,
                    and whether the response starts with a refusal phrase
==================  ==============================================================================

Tokens are ``\\w+`` runs and single punctuation marks of the lower-cased text. A token hashes to its
CRC-32; an n-gram combines its tokens' hashes with a 64-bit multiply-xor mix seeded by namespace and
``n``; the column is the mixed hash modulo the block size. Character n-grams hash Unicode code points
the same way, vectorised. Nothing here depends on Python's salted ``hash()``.

>>> rows = FeatureSet(("resp_head",), bits=8).transform(["Bake a cake?"], ["Sure: mix flour."])
>>> rows.n_rows, rows.n_features, bool(np.isclose(np.linalg.norm(rows.values), 1.0))
(1, 256, True)
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from eh_bench.errors import ConfigError
from eh_bench.judges.refusal import default_refusal_judge

MAX_RESPONSE_CHARS: Final = 4000
MAX_CHAR_CHARS: Final = 1500
HEAD_TOKENS: Final = 48
DEFAULT_BITS: Final = 18
NAMESPACES: Final = ("resp_words", "resp_head", "resp_chars", "req_words", "overlap")
#: Dense columns of the ``overlap`` namespace.
OVERLAP_WIDTH: Final = 2
_TOKEN_RE: Final = re.compile(r"\w+|[^\w\s]")
_CONTENT_RE: Final = re.compile(r"[^\W\d_]{4,}")
_M1: Final = np.uint64(0x9E3779B97F4A7C15)
_M2: Final = np.uint64(0xFF51AFD7ED558CCD)
_S33: Final = np.uint64(33)
_SEEDS: Final = {name: np.uint64(zlib.crc32(name.encode())) << np.uint64(32) for name in NAMESPACES}


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _S33)
    h = h * _M2
    out: np.ndarray = h ^ (h >> _S33)
    return out


def ngram_hashes(
    codes: np.ndarray, lengths: np.ndarray, n_min: int, n_max: int, seed: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every n-gram (``n_min <= n <= n_max``) of a batch of unit-hash sequences.

    Args:
        codes: the sequences' unit hashes, concatenated.
        lengths: each sequence's length (they sum to ``len(codes)``).

    Returns:
        ``(hashes, row)``: one hash per n-gram that lies inside one sequence, and its sequence index.
    """
    codes = codes.astype(np.uint64)
    row_of = np.repeat(np.arange(len(lengths)), lengths)
    end_of = np.cumsum(lengths)[row_of] if len(codes) else np.zeros(0, dtype=np.int64)
    hashes: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    for n in range(n_min, n_max + 1):
        m = len(codes) - n + 1
        if m <= 0:
            break
        h = np.full(m, seed + np.uint64(n), dtype=np.uint64)
        for j in range(n):
            h = _mix((h * _M1) ^ codes[j : j + m])
        inside = np.arange(m) + n <= end_of[:m]
        hashes.append(h[inside])
        rows.append(row_of[:m][inside])
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(hashes), np.concatenate(rows)


def tokens(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens."""
    return _TOKEN_RE.findall(text.lower())


class _TokenCodes(dict[str, int]):
    """CRC-32 of each token, memoised (cleared when it grows past :data:`_MAX_MEMO`)."""

    def __missing__(self, token: str) -> int:
        if len(self) >= _MAX_MEMO:
            self.clear()
        code = self[token] = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        return code


_CODES: Final = _TokenCodes()
_MAX_MEMO: Final = 1 << 20


def _token_batch(seqs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(s) for s in seqs), np.int64, len(seqs))
    flat = [t for s in seqs for t in s]
    return np.fromiter(map(_CODES.__getitem__, flat), np.uint64, len(flat)), lengths


def _char_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    padded = [" " + " ".join(t[:MAX_CHAR_CHARS].lower().split()) + " " for t in texts]
    lengths = np.fromiter((len(t) for t in padded), np.int64, len(padded))
    joined = "".join(padded).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(joined, dtype=np.uint32).astype(np.uint64), lengths


@dataclass(frozen=True)
class SparseRows:
    """Rows of a sparse matrix in CSR form (``indptr``, ``indices``, ``values``)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    n_features: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Row-wise dot products with a dense weight vector."""
        rows = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
        return np.bincount(rows, weights=weights[self.indices] * self.values, minlength=self.n_rows)


@dataclass(frozen=True)
class FeatureSet:
    """An ordered tuple of namespaces and the block size ``2**bits`` of each hashed one."""

    namespaces: tuple[str, ...]
    bits: int = DEFAULT_BITS

    def __post_init__(self) -> None:
        unknown = [n for n in self.namespaces if n not in NAMESPACES]
        if unknown or not self.namespaces or len(set(self.namespaces)) != len(self.namespaces):
            raise ConfigError(
                f"feature namespaces {list(self.namespaces)!r}: each must be one of {', '.join(NAMESPACES)}, once"
            )
        if not 8 <= self.bits <= 24:
            raise ConfigError(f"feature bits must be 8-24, got {self.bits}")

    def width(self, name: str) -> int:
        """Columns of one namespace."""
        return OVERLAP_WIDTH if name == "overlap" else 1 << self.bits

    @property
    def n_features(self) -> int:
        return sum(self.width(n) for n in self.namespaces)

    def _hashes(
        self, name: str, prompts: Sequence[str], resp_tokens: list[list[str]], responses: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        seed = _SEEDS[name]
        if name == "resp_words":
            return ngram_hashes(*_token_batch(resp_tokens), 1, 2, seed)
        if name == "resp_head":
            return ngram_hashes(*_token_batch([t[:HEAD_TOKENS] for t in resp_tokens]), 1, 3, seed)
        if name == "resp_chars":
            return ngram_hashes(*_char_batch(responses), 3, 5, seed)
        return ngram_hashes(*_token_batch([tokens(p) for p in prompts]), 1, 1, seed)

    def _block(self, name: str, hashes: np.ndarray, rows: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
        """``(row, column, value)`` of one hashed namespace: log counts, unit length per row."""
        keys = (rows.astype(np.int64) << self.bits) | (hashes & np.uint64((1 << self.bits) - 1)).astype(
            np.int64
        )
        unique, counts = np.unique(keys, return_counts=True)
        row, col = unique >> self.bits, unique & ((1 << self.bits) - 1)
        value = np.log1p(counts)
        norms = np.sqrt(np.bincount(row, weights=value * value, minlength=n))
        return row, col, value / np.where(norms > 0, norms, 1.0)[row]

    def transform(self, prompts: Sequence[str], responses: Sequence[str]) -> SparseRows:
        """Features of the pairs ``zip(prompts, responses)`` as :class:`SparseRows` (batched)."""
        if len(prompts) != len(responses):
            raise ConfigError(f"{len(prompts)} requests but {len(responses)} responses")
        n = len(prompts)
        texts = [r[:MAX_RESPONSE_CHARS] for r in responses]
        resp_tokens = (
            [tokens(t) for t in texts] if any(ns.startswith("resp_") for ns in self.namespaces) else []
        )
        parts: list[tuple[np.ndarray, ...]] = []
        offset = 0
        for name in self.namespaces:
            if name == "overlap":
                complied = default_refusal_judge().success_values(list(responses))
                dense = np.array(
                    [_overlap(p, t, complied, i) for i, (p, t) in enumerate(zip(prompts, texts, strict=True))]
                )
                row = np.repeat(np.arange(n), OVERLAP_WIDTH)
                col = np.tile(np.arange(OVERLAP_WIDTH), n)
                parts.append((row, col + offset, dense.reshape(-1) if n else np.zeros(0)))
            else:
                row, col, value = self._block(name, *self._hashes(name, prompts, resp_tokens, texts), n)
                parts.append((row, col + offset, value))
            offset += self.width(name)
        row = np.concatenate([p[0] for p in parts]).astype(np.int64)
        order = np.argsort(row, kind="stable")
        return SparseRows(
            indptr=np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n))]).astype(np.int64),
            indices=np.concatenate([p[1] for p in parts]).astype(np.int64)[order],
            values=np.concatenate([p[2] for p in parts]).astype(np.float64)[order],
            n_features=self.n_features,
        )


def _overlap(prompt: str, response: str, complied: list[float | None] | None, row: int) -> np.ndarray:
    asked = set(_CONTENT_RE.findall(prompt.lower()))
    said = set(_CONTENT_RE.findall(response.lower()))
    share = len(asked & said) / len(asked) if asked else 0.0
    refusal = 1.0 if complied is not None and complied[row] == 0.0 else 0.0
    return np.array([share, refusal])
