"""HarmBench-classifier-style yes/no judge: does the reply carry out the behaviour?

The prompt follows the HarmBench classifier's scheme (behaviour, optional context, generation; answer
Yes or No; Mazeika et al., 2024, arXiv:2402.04249) in this project's own words. ``Yes`` -> success 1,
``No`` -> 0, anything else is unscored. Contextual behaviours get a template that shows the context.
"""

from __future__ import annotations

from typing import Final

from eh_bench.backends.base import Message
from eh_bench.judges.base import JudgeItem, Verdict
from eh_bench.judges.chat import ChatJudge, load_template
from eh_bench.judges.parsing import parse_yes_no

HARMBENCH_SYSTEM: Final = "harmbench_system.txt"
HARMBENCH_USER: Final = "harmbench_user.txt"
HARMBENCH_USER_CONTEXT: Final = "harmbench_user_context.txt"


class HarmBenchJudge(ChatJudge):
    """Yes/no judge of whether a response performs the requested behaviour (success 1 = Yes)."""

    id = "harmbench-yesno"
    version = 1
    templates = (HARMBENCH_SYSTEM, HARMBENCH_USER, HARMBENCH_USER_CONTEXT)
    default_max_new_tokens = 8

    def messages(self, item: JudgeItem) -> list[Message]:
        """System instruction, then behaviour (+ context) and the reply to classify."""
        if item.context:
            user = load_template(HARMBENCH_USER_CONTEXT).format(
                prompt=item.prompt, context=item.context, response=item.response
            )
        else:
            user = load_template(HARMBENCH_USER).format(prompt=item.prompt, response=item.response)
        return [
            {"role": "system", "content": load_template(HARMBENCH_SYSTEM)},
            {"role": "user", "content": user},
        ]

    def parse(self, text: str) -> Verdict:
        """``Yes`` -> 1, ``No`` -> 0 (first line, any case); else unscored."""
        return parse_yes_no(text)
