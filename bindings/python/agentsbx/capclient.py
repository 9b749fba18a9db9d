"""The child's side of the capability channel: call host operations over SBX_CAPS_FD.

A single file that needs only the standard library (it does not load
libagentsbx), for programs that run *inside* a sandbox::

    from capclient import call, CallRefused      # this file, copied into the workspace
    issue = call("fetch_issue", 7)                # the host's handler's result
    try:
        call("delete_repo", {})
    except CallRefused as e:
        print(e.code, e)                          # unknown_op no operation "delete_repo" ...

It is also ``agentsbx.capclient`` in the package, and a command:
``python3 capclient.py NAME [JSON]``.  See docs/capabilities.md for the wire format.
One call at a time per descriptor: a call holds ``flock`` on it.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import sys
from typing import Any, List, Optional

__all__ = ["call", "CallRefused", "ChannelError"]


class CallRefused(Exception):
    """The host refused the call, or the operation failed: ``code`` is one of
    "unknown_op", "malformed", "too_large", "budget", "failed"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ChannelError(OSError):
    """No channel (SBX_CAPS_FD is not set), or the host closed it."""


def _fd() -> int:
    v = os.environ.get("SBX_CAPS_FD", "")
    if not v.isdigit():
        raise ChannelError("no capability channel: SBX_CAPS_FD is not set (the sandbox grants "
                           "no host operation)")
    return int(v)


def _read(fd: int, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            raise ChannelError("the host closed the capability channel")
        out += chunk
    return bytes(out)


def call(op: str, args: Any = None, *, fd: Optional[int] = None) -> Any:
    """Call host operation ``op`` with ``args`` (encoded as JSON); return its result
    (decoded).  Raises :class:`CallRefused` or :class:`ChannelError`."""
    fd = _fd() if fd is None else fd
    body = json.dumps({"op": op, "args": args}, separators=(",", ":")).encode()
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        frame = struct.pack(">I", len(body)) + body
        while frame:
            frame = frame[os.write(fd, frame):]
        (n,) = struct.unpack(">I", _read(fd, 4))
        reply = json.loads(_read(fd, n))
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
    if reply.get("ok"):
        return reply.get("result")
    raise CallRefused(str(reply.get("code")), str(reply.get("error")))


def _main(argv: List[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: capclient.py NAME [JSON]", file=sys.stderr)
        return 2
    try:
        result = call(argv[1], json.loads(argv[2]) if len(argv) == 3 else None)
    except CallRefused as e:
        print(f"capclient: {argv[1]}: {e.code}: {e}", file=sys.stderr)
        return 1
    except (ChannelError, ValueError) as e:
        print(f"capclient: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
