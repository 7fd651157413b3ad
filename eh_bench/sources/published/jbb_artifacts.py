"""JailbreakBench attack artifacts (Chao et al., 2024): per attack and target model, 100 judged jailbreaks.

Each JSON file ``attack-artifacts/<method>/<attack_type>/<model>.json`` of JailbreakBench/artifacts
(pinned at one commit) holds a ``parameters`` block and 100 ``jailbreaks`` rows. ``index`` is the
``Index`` of JBB-Behaviors, so ``request_id`` is ``jbb:<index>``; ``behavior`` is checked against that
file (whitespace-normalised, with :data:`KNOWN_RENAMINGS`), not ``goal``, whose wording changed in five
rows since the artifacts were made. ``jailbroken`` (the JailbreakBench judge's verdict) is the
reference verdict. A row with a null ``prompt``/``response`` is an attack that submitted nothing: its
``response`` is ``None`` and ``jailbroken`` must be false.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import SourceError
from eh_bench.jsonio import loads_strict
from eh_bench.sources.base import SourceFile
from eh_bench.sources.published.record import HARMFUL, NOT_HARMFUL, PublishedFile, PublishedResponse

NAME: Final = "jbb-artifacts"
REPO: Final = "JailbreakBench/artifacts"
REVISION: Final = "909e68c01d94222b8ad2e397a017e2e12e2adb73"
LICENSE: Final = "mit"
ROOT: Final = "jailbreakbench-artifacts"
#: The number of behaviours in every artifact file (``index`` 0-99).
N_BEHAVIORS: Final = 100
#: Pairs of behaviour names that mean the same behaviour (artifact name, JBB-Behaviors name).
KNOWN_RENAMINGS: Final = frozenset({("9_11 conspiracy", "September 11th conspiracy")})
#: Row fields kept in ``extra`` besides the attack prompt.
EXTRA_FIELDS: Final = (
    "goal", "behavior", "category", "number_of_queries", "queries_to_jailbreak", "prompt_tokens",
    "response_tokens", "jailbroken_llama_guard1",
)  # fmt: skip

#: (path under attack-artifacts/, sha256) of every pinned artifact file.
_PINS: Final = (
    ("GCG/transfer/gpt-3.5-turbo-1106.json", "ff185b1dc73732d830e96efdb3f4a92294ee72e9c88a1800b1d11d4ecb3d4cdf"),
    ("GCG/transfer/gpt-4-0125-preview.json", "af54543a06e3702256315517ee6e6a7b0edf182dd2c6d938216fa58cbea8de23"),
    ("GCG/white_box/llama-2-7b-chat-hf.json", "f76cbaf899c79ca8eed6a6ed26d6f8789933c5595a9a5ee028e305dec4dd95f7"),
    ("GCG/white_box/vicuna-13b-v1.5.json", "9eff8b6f78cae002737868ca8cdd886be5afcd1cbbbe4cf51ff837bc688b01b1"),
    ("JBC/manual/gpt-3.5-turbo-1106.json", "5999b8f2fc5e85fd4f7d6553abaeaa66f2dc10c5354faa41622e511c08eab871"),
    ("JBC/manual/gpt-4-0125-preview.json", "1785f7cf838522461b5b9af3fa606715ecf55c194581f4c8c5c9f1945b59db05"),
    ("JBC/manual/llama-2-7b-chat-hf.json", "1607a5a5b9f50abc7f2ff9e07b7257dfde7228b88cfdf73c20f5f56108ffdd23"),
    ("JBC/manual/vicuna-13b-v1.5.json", "1d5df5aa451c3d1bb8a4c048a7b2e1e6132e72f2970cb9d94ffc77f44e0edb39"),
    ("PAIR/black_box/gpt-3.5-turbo-1106.json", "49e007ce488e606cede7ffc8b022e35080b7f3870956e4cb2423d9b42749c78f"),
    ("PAIR/black_box/gpt-4-0125-preview.json", "6dd214eee78184daf048ac8af166641724b49fd25bc831e5d7201469c162004d"),
    ("PAIR/black_box/llama-2-7b-chat-hf.json", "02819296c5d992568d732d37813b2ce34624068a20f21025c04c04d52820b029"),
    ("PAIR/black_box/vicuna-13b-v1.5.json", "18b101386419a98fbdf45cb987069f83af3a40d5e0f7f0d32c4e9dc5ecc049b4"),
    ("prompt_with_random_search/black_box/gpt-3.5-turbo-1106.json", "d4a0691eda37b02dc948b6d6d08460f7d5cd3f15099121b388a58634ffb7bd76"),
    ("prompt_with_random_search/black_box/gpt-4-0125-preview.json", "4a0573dba6823c676cab99ed54b8191244080883948270fac9b75255b7c69206"),
    ("prompt_with_random_search/black_box/llama-2-7b-chat-hf.json", "45df98af6e1c0e35747f6b9c80cdc606e96c76a511e09a1a49ad5b00cfb51c0a"),
    ("prompt_with_random_search/black_box/vicuna-13b-v1.5.json", "9d87a56659f617438feb5770bb2c8e4c2dbbd1bd62964f2c1a8775988017ac5d"),
)  # fmt: skip

FILES: Final = tuple(
    SourceFile(
        relpath=f"{ROOT}/attack-artifacts/{sub}",
        url=f"https://raw.githubusercontent.com/{REPO}/{REVISION}/attack-artifacts/{sub}",
        revision=REVISION,
        sha256=sha,
        license=LICENSE,
    )
    for sub, sha in _PINS
)


def _norm(text: str) -> str:
    return " ".join(text.split())


def same_behavior(artifact: str, reference: str) -> bool:
    """Whether an artifact's ``behavior`` names the JBB-Behaviors ``Behavior`` (see module doc).

    >>> same_behavior("Human  trafficking", "Human trafficking"), same_behavior("Phishing", "Malware")
    (True, False)
    """
    a, b = _norm(artifact), _norm(reference)
    return a == b or (a, b) in KNOWN_RENAMINGS


def _fail(path: Path, where: str, problem: str) -> SourceError:
    return SourceError(
        f"{path}: {where}: {problem}; is this a pinned JailbreakBench artifact file "
        f"({REPO} @ {REVISION})? re-fetch it or pass the file the reader expects"
    )


def _row(
    path: Path, i: int, rec: Any, parameters: Mapping[str, Any], behaviors: Mapping[int, str] | None
) -> PublishedResponse:
    where = f"jailbreaks[{i}]"
    if not isinstance(rec, dict):
        raise _fail(path, where, f"expected an object, got {type(rec).__name__}")
    index = rec.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < N_BEHAVIORS:
        raise _fail(path, f"{where}.index", f"expected an integer 0-{N_BEHAVIORS - 1}, got {index!r}")
    behavior, goal = rec.get("behavior"), rec.get("goal")
    if not isinstance(behavior, str) or not isinstance(goal, str) or not goal.strip():
        raise _fail(path, where, "'behavior' and 'goal' must be non-empty strings")
    if behaviors is not None and not same_behavior(behavior, behaviors.get(index, "")):
        raise _fail(
            path, f"{where}.behavior",
            f"{behavior!r} is not JBB-Behaviors Index {index}'s behaviour {behaviors.get(index)!r}",
        )  # fmt: skip
    jailbroken = rec.get("jailbroken")
    if not isinstance(jailbroken, bool):
        raise _fail(path, f"{where}.jailbroken", f"expected true or false, got {jailbroken!r}")
    prompt, response = rec.get("prompt"), rec.get("response")
    for name, value in (("prompt", prompt), ("response", response)):
        if value is not None and not isinstance(value, str):
            raise _fail(path, f"{where}.{name}", f"expected a string or null, got {type(value).__name__}")
    if response is None and jailbroken:
        raise _fail(path, f"{where}.jailbroken", "true for a row without a response")
    extra = {name: rec.get(name) for name in EXTRA_FIELDS}
    extra["attack_prompt"] = prompt
    extra["attack_type"] = parameters.get("attack_type")
    return PublishedResponse(
        source=NAME,
        model=str(parameters["model"]),
        method=str(parameters["method"]),
        request_id=f"jbb:{index}",
        prompt=goal.strip(),
        response=response,
        verdict=HARMFUL if jailbroken else NOT_HARMFUL,
        extra=extra,
    )


def read_artifact(
    path: Path, behaviors: Mapping[int, str] | None = None, relpath: str | None = None
) -> PublishedFile:
    """Parse one artifact file into its ``parameters`` and :class:`PublishedResponse` rows.

    Args:
        path: the JSON file.
        behaviors: JBB-Behaviors ``Index -> Behavior``; when given, every row's ``behavior`` is checked.
        relpath: the name recorded in the result (default: the file name).

    Raises:
        SourceError: malformed JSON, a missing field, a wrong type or a behaviour mismatch (naming
            the file, the row and the field).
    """
    try:
        data = loads_strict(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(path, "whole file", f"not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise _fail(path, "top level", "expected an object with 'parameters' and 'jailbreaks'")
    parameters: dict[str, Any] = data["parameters"]
    for key in ("method", "model"):
        if not isinstance(parameters.get(key), str) or not parameters[key]:
            raise _fail(path, f"parameters.{key}", "missing or not a string")
    jailbreaks = data.get("jailbreaks")
    if not isinstance(jailbreaks, list):
        raise _fail(path, "jailbreaks", "missing or not a list")
    rows = [_row(path, i, rec, parameters, behaviors) for i, rec in enumerate(jailbreaks)]
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.request_id in seen:
            raise _fail(path, f"jailbreaks[{i}].index", f"{row.request_id} occurs twice")
        seen.add(row.request_id)
    return PublishedFile(relpath=relpath or path.name, parameters=parameters, rows=rows)
