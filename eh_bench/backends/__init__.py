"""Chat backends: one protocol, selected everywhere by a spec string (see :func:`get_backend`)."""

from eh_bench.backends.base import ChatBackend, ChatResult, Message, get_backend

__all__ = ["ChatBackend", "ChatResult", "Message", "get_backend"]
