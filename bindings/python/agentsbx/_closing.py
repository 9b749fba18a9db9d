"""Closing: the context-manager and finaliser every handle-owning class shares."""

from __future__ import annotations

from typing import Any, TypeVar

_C = TypeVar("_C", bound="Closing")


class Closing:
    """A class that owns a native handle and frees it in ``close()`` (idempotent):
    ``with`` closes it, and so does the garbage collector if nobody did."""

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
