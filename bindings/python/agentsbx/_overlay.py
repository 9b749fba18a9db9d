"""Overlay workspaces: review what a child run with :meth:`Policy.overlay`
changed, then apply or discard it (``sbx_overlay_changes``,
``sbx_overlay_apply``, ``sbx_overlay_discard``; docs/carve-outs.md)."""

from __future__ import annotations

import ctypes
import os
from typing import List, NamedTuple, Union

from ._native import lib

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Change(NamedTuple):
    """One change of an overlay (:func:`overlay_changes`)."""

    path: str
    """The path, relative to the lower directory."""
    kind: str
    """``"added"``, ``"modified"`` or ``"deleted"``."""
    type: str
    """``"file"``, ``"dir"``, ``"symlink"`` or ``"other"`` (for a deletion, the old type)."""


def _p(path: StrPath, what: str) -> bytes:
    if path is None or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{what} must be a str or os.PathLike, not {type(path).__name__}")
    p = os.fsencode(path)
    if b"\0" in p:
        raise ValueError(f"{what} contains a NUL byte")
    return p


def overlay_changes(lower: StrPath, upper: StrPath) -> List[Change]:
    """What the upper directory changes in the lower one, sorted by path: a file
    rewritten with the same bytes and mode is not a change; a deleted directory is
    listed with everything beneath it.  Raises :class:`PathNotFoundError`,
    :class:`PathNotADirectoryError` or :class:`InvalidArgumentError`."""
    h = ctypes.c_void_p()
    lib.sbx_overlay_changes(_p(lower, "lower"), _p(upper, "upper"), ctypes.byref(h))
    out: List[Change] = []
    try:
        for i in range(lib.sbx_changes_count(h)):
            path, kind, typ = ctypes.c_char_p(), ctypes.c_int(), ctypes.c_int()
            lib.sbx_changes_get(h, i, ctypes.byref(path), ctypes.byref(kind), ctypes.byref(typ))
            out.append(Change(os.fsdecode(path.value or b""),
                              (lib.sbx_change_kind_name(kind.value) or b"").decode(),
                              (lib.sbx_file_type_name(typ.value) or b"").decode()))
    finally:
        lib.sbx_changes_free(h)
    return out


def overlay_apply(lower: StrPath, upper: StrPath) -> None:
    """Copy the upper directory's changes into the lower one (deletions included),
    following no link; a fifo, socket or device in it raises
    :class:`NotSupportedError` before anything changes."""
    lib.sbx_overlay_apply(_p(lower, "lower"), _p(upper, "upper"))


def overlay_discard(upper: StrPath) -> None:
    """Remove an upper directory and everything in it, following no link."""
    lib.sbx_overlay_discard(_p(upper, "upper"))
