"""Chat backends: one protocol (:mod:`~eh_bench.backends.base`), selected everywhere by a spec string.

``smollm2`` (the embedded model, :mod:`~eh_bench.backends.embedded`), ``hf:DIR_OR_ID`` (transformers,
in-process) and ``openai:URL#MODEL`` (any OpenAI-compatible server); see :func:`get_backend`.
"""

from eh_bench.backends.base import ChatBackend, ChatResult, Message
from eh_bench.backends.registry import get_backend

__all__ = ["ChatBackend", "ChatResult", "Message", "get_backend"]
