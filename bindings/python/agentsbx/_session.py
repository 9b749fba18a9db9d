"""A long-lived confined Python interpreter that runs successive code cells.

Agent frameworks expect a stateful code interpreter: variables, imports and
functions defined by one cell are there for the next.  :class:`Session` keeps
one Python process in the sandbox (spawned from a :class:`Policy`) and sends it
cells::

    with agentsbx.Session(timeout=10, output_limit="256K") as s:
        s.run("import math; r = 2")
        c = s.run("print(math.pi * r ** 2)")
        assert c.status == "ok" and c.stdout.startswith("12.56")

What the host enforces, whatever a cell does to the interpreter:

- the policy, for the whole interpreter (Landlock, seccomp, limits, ...);
- a per-cell timeout: SIGINT first (the cell gets ``KeyboardInterrupt`` and the
  variables are kept), then, after ``interrupt_grace`` seconds, the
  interpreter's tree is killed and the next cell starts a fresh one;
- a per-cell output limit per stream: past it the host discards (and keeps
  reading, so the cell never blocks on a full pipe) and says ``truncated``;
- the policy's output filter (secrets redacted, escapes neutralised).

Cells share one interpreter on purpose: one cell can see and change what an
earlier one left (it is the same program), and it can write the interpreter's
control messages itself; the host treats all of it as the untrusted output it
is.  A policy's wall-clock limit bounds the whole session, not a cell.
"""

from __future__ import annotations

import dataclasses
import os
import select
import signal
import time
from typing import Dict, List, Optional

from ._closing import Closing
from ._api import PIPE, Child, Policy, SandboxResult, Size, _seconds, parse_size
from ._output import OutputFilter

__all__ = ["Session", "CellResult"]

#: The interpreter's side: reads "<length> <nonce>\n" + code on a private copy of
#: stdin (fd 0 becomes /dev/null), runs it in one globals dict, and writes one
#: line "<nonce> <status> <repr of the last expression or error>" on the control
#: descriptor after flushing stdout and stderr.
_DRIVER = r'''
import ast, os, signal, sys, traceback
ctl = int(sys.argv[1])
proto = os.fdopen(os.dup(0), "rb", buffering=0)
null = os.open(os.devnull, os.O_RDONLY)
os.dup2(null, 0)
os.close(null)
g = {"__name__": "__main__", "__builtins__": __builtins__}

def read_exact(n):
    b = b""
    while len(b) < n:
        c = proto.read(n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b

def readline():
    b = b""
    while not b.endswith(b"\n"):
        c = proto.read(1)
        if not c:
            sys.exit(0)
        b += c
    return b

def report(nonce, status, text):
    msg = ("%s %s %s\n" % (nonce, status, text.replace("\\", "\\\\").replace("\n", "\\n"))).encode()
    while msg:
        msg = msg[os.write(ctl, msg):]

while True:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    n, nonce = readline().decode("ascii").split()
    code = read_exact(int(n)).decode("utf-8", "replace")
    status, text = "ok", ""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        tree = ast.parse(code, "<cell>", "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<cell>", "exec"), g)
        if last is not None:
            v = eval(compile(last, "<cell>", "eval"), g)
            if v is not None:
                text = repr(v)[:65536]
    except KeyboardInterrupt as e:
        status, text = "interrupted", "KeyboardInterrupt"
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)
    except SystemExit as e:
        status, text = "error", "SystemExit: %r" % (e.code,)
    except BaseException as e:
        status, text = "error", traceback.format_exception_only(type(e), e)[-1].strip()
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)  # from the cell's frame
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    report(nonce, status, text)
'''


@dataclasses.dataclass(frozen=True)
class CellResult:
    """What one cell did."""

    status: str
    """``"ok"``; ``"error"`` (an exception: ``error`` says which, ``stderr`` has the
    traceback); ``"timed_out"`` (interrupted at its timeout; ``restarted`` says
    whether the interpreter had to be killed); ``"ended"`` (the interpreter
    ended during the cell: killed by a limit or the policy, or it exited;
    ``result`` says how)."""
    stdout: str
    stderr: str
    value: Optional[str]
    """``repr()`` of the cell's last expression when it is not None (as a notebook shows it)."""
    error: Optional[str]
    """The exception's last line for ``"error"``, else None."""
    stdout_truncated: bool
    stderr_truncated: bool
    duration: float
    """Seconds from sending the cell to its end."""
    restarted: bool
    """The interpreter ended during this cell: the next cell runs in a fresh one
    (every variable is gone)."""
    result: "Optional[SandboxResult[bytes]]" = None
    """The interpreter's :class:`SandboxResult` when it ended during this cell."""
    redactions: int = 0
    """Secrets the output filter replaced in this cell's output."""


class _Stream:
    """One output pipe of the interpreter, for the current cell."""

    def __init__(self, fd: int, filt: OutputFilter, limit: int) -> None:
        self.fd = fd
        self.filt = filt
        self.limit = limit
        self.kept: List[bytes] = []
        self.size = 0
        self.truncated = False

    def feed(self, data: bytes) -> None:
        out = self.filt.write(data) if data else self.filt.finish()
        if not out:
            return
        room = self.limit - self.size
        if len(out) > room:
            out = out[:max(room, 0)]
            self.truncated = True
        if out:
            self.kept.append(out)
            self.size += len(out)

    def drain(self) -> bool:
        """Read what is there now; False at end of file."""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return True
            if not data:
                return False
            self.feed(data)

    def text(self) -> str:
        self.feed(b"")  # what the filter held back
        return b"".join(self.kept).decode("utf-8", "replace")


class Session(Closing):
    """A confined, stateful Python interpreter (see the module's documentation).

    :param policy: the policy the interpreter runs under (copied now: later
        changes do not apply); default: a new default policy.  The interpreter
        (``python``) must be executable under it.
    :param timeout: default per-cell timeout, in seconds.
    :param output_limit: bytes kept per stream per cell (int or ``"1M"``).
    :param interrupt_grace: seconds a timed-out cell has to end after its
        ``KeyboardInterrupt`` before the interpreter is killed.
    :param python: the interpreter (a path, or a name in the child's PATH).

    Not thread-safe: one cell at a time.  The interpreter starts at the first
    :meth:`run` (or :meth:`restart`).
    """

    def __init__(self, policy: Optional[Policy] = None, *, timeout: float = 30.0,
                 output_limit: Size = "1M", interrupt_grace: float = 1.0,
                 python: str = "/usr/bin/python3") -> None:
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be an agentsbx.Policy, not {type(policy).__name__}")
        _seconds(timeout, "timeout", 1000)
        _seconds(interrupt_grace, "interrupt_grace", 1000)
        if not isinstance(python, str) or not python:
            raise TypeError("python must be a non-empty str")
        self._limit = parse_size(output_limit)
        self._policy = policy.copy() if policy is not None else Policy()
        self.timeout = float(timeout)
        self.interrupt_grace = float(interrupt_grace)
        self.python = python
        self._child: Optional[Child] = None
        self._ctl: Optional[int] = None
        self._ctl_buf = b""
        self._seq = 0
        self.restarts = 0
        """How many times the interpreter was started."""

    # -- the interpreter
    @property
    def pid(self) -> Optional[int]:
        """The interpreter's pid while it runs, else None."""
        return self._child.pid if self._child is not None else None

    def _start(self) -> None:
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            self._child = self._policy.spawn([self.python, "-u", "-I", "-c", _DRIVER, str(w)],
                                             stdin=PIPE, stdout=PIPE, stderr=PIPE, pass_fds=[w])
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)
        os.set_blocking(r, False)
        self._ctl = r
        self._ctl_buf = b""
        self.restarts += 1

    def _stop(self) -> "Optional[SandboxResult[bytes]]":
        """Kill the interpreter's tree if it runs, reap it, free it; its result."""
        res = None
        child, self._child = self._child, None
        if child is not None:
            try:
                child.kill()
                child.wait()
                res = child.result
            finally:
                child.close()
        if self._ctl is not None:
            os.close(self._ctl)
            self._ctl = None
        return res

    def restart(self) -> None:
        """Kill the interpreter (if it runs) and start a fresh one: every variable is gone."""
        self._check_open()
        self._stop()
        self._start()

    def close(self) -> None:
        """Kill the interpreter and reap it (idempotent)."""
        self._stop()
        if self._policy is not None:
            self._policy.close()
            self._policy = None  # type: ignore[assignment]

    def _check_open(self) -> None:
        if self._policy is None:
            raise ValueError("operation on a closed Session")


    # -- cells
    def _control_line(self) -> Optional[bytes]:
        """Read the control pipe; a complete line if there is one (None: not yet;
        b"" at end of file)."""
        assert self._ctl is not None
        while b"\n" not in self._ctl_buf:
            try:
                data = os.read(self._ctl, 65536)
            except BlockingIOError:
                return None
            if not data:
                return b""
            self._ctl_buf += data
        line, self._ctl_buf = self._ctl_buf.split(b"\n", 1)
        return line

    def run(self, code: str, *, timeout: Optional[float] = None) -> CellResult:
        """Run one cell in the interpreter and return what it did.

        :param code: Python source (a str).
        :param timeout: seconds for this cell (default: the session's).
        :raises SandboxError: the interpreter could not be started.
        """
        self._check_open()
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, not {type(code).__name__}")
        limit = self.timeout if timeout is None else float(timeout)
        _seconds(limit, "timeout", 1000)
        if self._child is None:
            self._start()
        child = self._child
        assert child is not None and self._ctl is not None
        self._seq += 1
        nonce = f"{os.getpid()}.{self._seq}.{os.urandom(6).hex()}"
        body = code.encode("utf-8", "surrogatepass")
        request = f"{len(body)} {nonce}\n".encode() + body
        streams: Dict[int, _Stream] = {}
        for n in (1, 2):
            fd = child.stdio_fd(n)
            assert fd is not None
            streams[fd] = _Stream(fd, OutputFilter(self._policy, n), self._limit)
        infd = child.stdio_fd(0)
        assert infd is not None
        sent = 0
        t0 = time.monotonic()
        deadline = t0 + limit
        interrupted_at: Optional[float] = None
        reply: Optional[bytes] = None
        ended = False
        while reply is None and not ended:
            now = time.monotonic()
            if interrupted_at is None and now >= deadline:
                child.send_signal(signal.SIGINT)
                interrupted_at = now
            elif interrupted_at is not None and now >= interrupted_at + self.interrupt_grace:
                break  # it did not stop: killed below
            wait_until = deadline if interrupted_at is None else interrupted_at + self.interrupt_grace
            waits = [max(0.0, wait_until - now)]
            lim = child.timeout_remaining()
            if lim is not None:
                waits.append(lim)
            rl = [self._ctl, child.fileno(), *streams]
            wl = [infd] if sent < len(request) else []
            r, w, _ = select.select(rl, wl, [], min(waits))
            if w:
                try:
                    sent += os.write(infd, request[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except BrokenPipeError:
                    sent = len(request)
            for fd in r:
                if fd in streams:
                    streams[fd].drain()
            if child.fileno() in r or child.timeout_remaining() == 0:
                if child.poll() is not None:
                    ended = True
            line = self._control_line()
            if line == b"":
                ended = True
            elif line is not None:
                parts = line.split(b" ", 2)
                if parts[0].decode("ascii", "replace") == nonce:
                    reply = line
        restarted = False
        result = None
        if reply is None:  # ended by itself, or killed now: drain its output, then a fresh one
            if not ended:
                child.kill()
            res = self._stop_keep_output(streams)
            result = res
            restarted = True
        else:
            for s in streams.values():
                s.drain()  # flushed before the reply was written: all in the pipes now
        status, text = "ended", ""
        if reply is not None:
            parts = reply.split(b" ", 2)
            status = parts[1].decode("ascii", "replace") if len(parts) > 1 else "error"
            text = parts[2].decode("utf-8", "replace") if len(parts) > 2 else ""
            text = text.replace("\\n", "\n").replace("\\\\", "\\")
        if interrupted_at is not None and (status == "interrupted" or reply is None):
            status = "timed_out"
        out, err = (s.text() for s in streams.values())
        redactions = sum(s.filt.redactions for s in streams.values())
        for s in streams.values():
            s.filt.close()
        return CellResult(status=status, stdout=out, stderr=err,
                          value=text if status == "ok" and text else None,
                          error=text if status == "error" else None,
                          stdout_truncated=list(streams.values())[0].truncated,
                          stderr_truncated=list(streams.values())[1].truncated,
                          duration=time.monotonic() - t0, restarted=restarted, result=result,
                          redactions=redactions)

    def _stop_keep_output(self, streams: Dict[int, _Stream]) -> "Optional[SandboxResult[bytes]]":
        """The interpreter ended or is being killed: reap it, read what its pipes
        still hold (the tree is dead, so they reach end of file), free it."""
        child = self._child
        assert child is not None
        child.wait()
        for s in streams.values():
            s.drain()
        return self._stop()

    def __repr__(self) -> str:
        return f"<agentsbx.Session pid={self.pid} restarts={self.restarts}>"

