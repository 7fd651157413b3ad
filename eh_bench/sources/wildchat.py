"""WildChat (Zhao et al., 2024): toxic first-turn user prompts, streamed.

The toxic conversations are only in the gated full release (``allenai/WildChat-1M-Full``); the open
``allenai/WildChat-1M`` had them removed. A first user turn counts as toxic when its own ``toxic`` flag
(OpenAI Moderation or Detoxify, set by the dataset authors) is true, or, in versions without per-turn
flags, when the aligned ``openai_moderation`` entry is ``flagged``. ``source_id`` is the
``conversation_hash`` (``conversation_id`` in the first release); ``category`` lists the flagged OpenAI
moderation categories.
"""

from __future__ import annotations

from typing import Final

from eh_bench.sources.base import Row
from eh_bench.sources.realworld import RealWorldSource, Record, first_turn, turn_row

NAME: Final = "wildchat"
HF_REPO: Final = "allenai/WildChat-1M-Full"
COLUMNS: Final = ("conversation_hash", "conversation_id", "conversation", "openai_moderation", "language", "toxic")
CITATION: Final = """@inproceedings{zhao2024wildchat,
  title={WildChat: 1M ChatGPT Interaction Logs in the Wild},
  author={Zhao, Wenting and Ren, Xiang and Hessel, Jack and Cardie, Claire and Choi, Yejin and Deng, Yuntian},
  booktitle={The Twelfth International Conference on Learning Representations},
  year={2024}
}"""


def to_row(record: Record) -> Row | None:
    """The canonical row of a WildChat record whose first user turn is flagged toxic, else None."""
    turn = first_turn(record)
    if turn is None:
        return None
    turn_flag = turn.message.get("toxic")
    toxic = bool(turn_flag) if turn_flag is not None else bool(turn.moderation.get("flagged"))
    conv_id = record.get("conversation_hash") or record.get("conversation_id")
    if not toxic or not conv_id:
        return None
    return turn_row(NAME, conv_id, turn)


SOURCE: Final = RealWorldSource(
    name=NAME,
    hf_repo=HF_REPO,
    license="odc-by",
    citation=CITATION,
    columns=COLUMNS,
    to_row=to_row,
)
