"""LMSYS-Chat-1M (Zheng et al., 2024): toxic first-turn user prompts, streamed.

The dataset (``lmsys/lmsys-chat-1m``) is gated on the Hub. A first user turn counts as toxic when the
``openai_moderation`` entry aligned with it is ``flagged``. ``source_id`` is ``conversation_id``;
``category`` lists the flagged OpenAI moderation categories.
"""

from __future__ import annotations

from typing import Final

from eh_bench.sources.base import Row
from eh_bench.sources.realworld import RealWorldSource, Record, first_turn, turn_row

NAME: Final = "lmsys"
HF_REPO: Final = "lmsys/lmsys-chat-1m"
COLUMNS: Final = ("conversation_id", "conversation", "openai_moderation", "language")
CITATION: Final = """@inproceedings{zheng2024lmsyschat1m,
  title={LMSYS-Chat-1M: A Large-Scale Real-World LLM Conversation Dataset},
  author={Zheng, Lianmin and Chiang, Wei-Lin and Sheng, Ying and Li, Tianle and Zhuang, Siyuan and Wu, Zhanghao and Zhuang, Yonghao and Li, Zhuohan and Lin, Zi and Xing, Eric P. and Gonzalez, Joseph E. and Stoica, Ion and Zhang, Hao},
  booktitle={The Twelfth International Conference on Learning Representations},
  year={2024}
}"""


def to_row(record: Record) -> Row | None:
    """The canonical row of an LMSYS-Chat-1M record whose first user turn is flagged, else None."""
    turn = first_turn(record)
    conv_id = record.get("conversation_id")
    if turn is None or not conv_id or not turn.moderation.get("flagged"):
        return None
    return turn_row(NAME, conv_id, turn)


SOURCE: Final = RealWorldSource(
    name=NAME,
    hf_repo=HF_REPO,
    license="lmsys-chat-1m (custom licence agreement)",
    citation=CITATION,
    columns=COLUMNS,
    to_row=to_row,
)
