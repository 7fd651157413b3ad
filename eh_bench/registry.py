"""A tiny name -> object registry, one per pluggable kind (likelihood models, judges, backends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from eh_bench.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories; refuses duplicates and lists the valid names on a miss.

    >>> r: Registry[int] = Registry("number")
    >>> _ = r.register("one")(1)
    >>> r.get("one")
    1
    >>> r.get("two")
    Traceback (most recent call last):
    ...
    eh_bench.errors.ConfigError: unknown number 'two'; choose one of: one
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name``; a second registration of a name is an error."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ConfigError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """The object registered as ``name``; :class:`ConfigError` listing valid names otherwise."""
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(sorted(self._items))}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
