"""Many children from one thread: :class:`Supervisor` and :mod:`asyncio` waits.

:class:`Supervisor` wraps the C supervisor (``supervisor.h``): any number of
children behind one descriptor, readable when :meth:`Supervisor.step` has
work (an exit, a deadline, a denied system call to answer).  The deadlines are
in a timerfd inside that descriptor, so an event loop needs no timer of its
own.

:meth:`agentsbx.Child.wait_async` and :func:`run_async` use one supervisor per
running event loop, registered with ``loop.add_reader()`` while children are
awaited and removed when none is::

    async def main():
        with agentsbx.Policy() as p:
            p.limit(wall_time=5)
            kids = [p.spawn(["/bin/sleep", "1"]) for _ in range(50)]
            codes = await asyncio.gather(*(k.wait_async() for k in kids))

Ownership: while a child is awaited (or added to a :class:`Supervisor`), the
supervisor reaps it; ``kill()``, ``send_signal()``, ``stdio_fd()`` still work,
``poll()``/``wait()``/``communicate()`` raise :class:`RuntimeError`.  Cancelling
the await gives the child back, still running.  A supervisor, like a loop, is
used from one thread.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import errno as _errno
import os
import weakref
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Union,
                    overload)

from . import errors as _err
from ._closing import Closing
from ._native import SbxIo, c_child_p, c_result_p, c_supervisor_p, lib
from ._output import OutputFilter

if TYPE_CHECKING:
    from ._api import Child, Policy, SandboxResult, _Call

_StrPath = Union[str, "os.PathLike[str]"]
_Args = Union[Sequence[Union[str, bytes, "os.PathLike[str]"]], str, bytes, "os.PathLike[str]"]

__all__ = ["Supervisor", "run_async", "AsyncChild"]


class Supervisor(Closing):
    """A set of children watched through one descriptor (``sbx_supervisor``).

    ``add(child)`` hands a running :class:`agentsbx.Child` to it; when
    :meth:`fileno` is readable, :meth:`step` reaps what ended, kills what passed
    its deadline, answers the violation monitor, and returns the children that
    ended (their ``result`` set, and theirs again).  :meth:`close` gives back
    the children still running (they keep running: close them yourself).
    """

    def __init__(self) -> None:
        h = c_supervisor_p()
        lib.sbx_supervisor_new(ctypes.byref(h))
        self._ptr: Optional[int] = h.value
        self._children: Dict[int, Any] = {}  # C child pointer -> Child

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed Supervisor")
        return self._ptr

    def fileno(self) -> int:
        """The descriptor to watch for readability (owned by the supervisor)."""
        return int(lib.sbx_supervisor_fd(self._handle()))

    def timeout(self) -> Optional[float]:
        """Seconds to the nearest deadline (0 if passed), None if no child has one.
        Not needed with :meth:`fileno`, which wakes up at deadlines itself."""
        ms = lib.sbx_supervisor_timeout_ms(self._handle())
        return None if ms < 0 else ms / 1000.0

    def __len__(self) -> int:
        """The number of children still running."""
        return int(lib.sbx_supervisor_running(self._handle())) if self._ptr else 0

    def add(self, child: Any) -> None:
        """Take over the supervision of a running child."""
        if child._supervisor is not None:
            raise RuntimeError(f"{child!r} is already supervised")
        if child.result is not None:
            raise ValueError(f"{child!r} has already ended")
        ptr = child._handle()
        lib.sbx_supervisor_add(self._handle(), ptr)
        child._supervisor = self
        self._children[ptr] = child

    def remove(self, child: Any) -> None:
        """Stop supervising a running child (it keeps running, and is yours again)."""
        ptr = child._handle()
        if self._children.get(ptr) is not child:
            raise ValueError(f"{child!r} is not in this supervisor")
        # step() hands every ended child back before returning, so a child
        # still listed here has not ended as far as the supervisor knows.
        _err.check(lib.sbx_supervisor_remove(self._handle(), ptr), "sbx_supervisor_remove")
        del self._children[ptr]
        child._supervisor = None

    def step(self) -> List[Any]:
        """Do what is ready, without blocking; return the children that ended."""
        lib.sbx_supervisor_step(self._handle())
        ended: List[Any] = []
        c, r = c_child_p(), c_result_p()
        while True:
            rc = lib.sbx_supervisor_next(self._handle(), ctypes.byref(c), ctypes.byref(r))
            if rc == -_errno.EAGAIN:
                return ended
            child = self._children.pop(c.value or 0)
            child._supervisor = None
            if rc < 0:
                child._async_error = _err.error_from_library(rc, "sbx_supervisor_next")
            else:
                child._finish(r.value)
            ended.append(child)

    def close(self) -> None:
        """Give back every child still supervised, then free the supervisor (idempotent)."""
        if self._ptr is None:
            return
        for child in list(self._children.values()):
            self.remove(child)
        p, self._ptr = self._ptr, None
        lib.sbx_supervisor_free(p)



class _LoopSupervisor:
    """The supervisor of one event loop, registered with add_reader while in use."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sup = Supervisor()
        self.futures: Dict[Any, "asyncio.Future[int]"] = {}
        self.fd = self.sup.fileno()
        loop.add_reader(self.fd, self._ready)

    def _ready(self) -> None:
        try:
            ended = self.sup.step()
        except Exception as exc:  # every waiter learns of it
            for waiter in list(self.futures.values()):
                if not waiter.done():
                    waiter.set_exception(exc)
            self.close()
            return
        for child in ended:
            fut: "Optional[asyncio.Future[int]]" = self.futures.pop(child, None)
            if fut is None or fut.done():
                continue
            err = child.__dict__.pop("_async_error", None)
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(child.returncode)
        if not self.futures:
            self.close()

    def wait(self, child: Any) -> "asyncio.Future[int]":
        fut = self.futures.get(child)
        if fut is None:
            self.sup.add(child)
            fut = self.loop.create_future()
            self.futures[child] = fut
        return fut

    def forget(self, child: Any) -> None:
        """A waiter was cancelled: give the child back, still running."""
        fut = self.futures.pop(child, None)
        if child._supervisor is self.sup:
            self.sup.remove(child)
        if fut is not None and not fut.done():
            fut.cancel()
        if not self.futures:
            self.close()

    def close(self) -> None:
        if _loops.get(self.loop) is self:
            del _loops[self.loop]
        self.loop.remove_reader(self.fd)
        self.sup.close()


_loops: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSupervisor]" = \
    weakref.WeakKeyDictionary()


def _detach(child: Any) -> None:
    """Child.close() of an awaited child: take it back from its loop's supervisor."""
    for ls in list(_loops.values()):
        if child in ls.futures or child._supervisor is ls.sup:
            ls.forget(child)
            return
    if child._supervisor is not None:
        child._supervisor.remove(child)


async def wait_child(child: Any) -> int:
    """The body of :meth:`agentsbx.Child.wait_async`."""
    if child.result is not None:
        return int(child.returncode)
    loop = asyncio.get_running_loop()
    ls = _loops.get(loop)
    if ls is None:
        ls = _loops[loop] = _LoopSupervisor(loop)
    fut = ls.wait(child)
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        if not fut.done():
            ls.forget(child)
        raise


# ---- one child driven by the event loop: run_async and spawn_async -------------

class _Engine:
    """Drive one C child from the loop: ``sbx_child_fd()`` registered with
    ``add_reader`` and a timer at its deadline (``sbx_child_timeout_ms()``), each
    calling ``sbx_child_poll()`` (the library's non-blocking step: it answers the
    monitor, reads captured output, feeds input, expires the deadline, reaps).
    ``done`` gets the C result pointer (the caller frees it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ptr: int) -> None:
        self.loop = loop
        self.ptr = ptr
        self.done: "asyncio.Future[int]" = loop.create_future()
        self.timer: Optional[asyncio.TimerHandle] = None
        self.fd = lib.sbx_child_fd(ptr)
        loop.add_reader(self.fd, self._step)
        self.reading = True
        self._arm()
        loop.call_soon(self._step)  # it may have ended already

    def _arm(self) -> None:
        ms = lib.sbx_child_timeout_ms(self.ptr)
        if ms >= 0:  # past the deadline and not reaped yet: look again shortly
            self.timer = self.loop.call_later(max(ms, 5) / 1000.0, self._expire)

    def _expire(self) -> None:
        self.timer = None
        self._step()
        if not self.done.done() and self.timer is None:
            self._arm()

    def _step(self) -> None:
        if self.done.done():
            return
        r = c_result_p()
        try:
            rc = lib.sbx_child_poll(self.ptr, ctypes.byref(r))
            if rc == -_errno.EAGAIN:
                return
            _err.check(rc, "sbx_child_poll")
        except BaseException as exc:
            self.stop()
            self.done.set_exception(exc)
            return
        self.stop()
        self.done.set_result(r.value or 0)

    def stop(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.fd)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def _is_pipe(spec: Any) -> bool:
    from ._api import PIPE
    return isinstance(spec, int) and not isinstance(spec, bool) and spec == PIPE


def _spawn_with(pol: "Policy", call: "_Call", argl: List[Any], argv: Any, *, stdin: Any, stdout: Any,
                stderr: Any, capture: bool, data: Optional[bytes]) -> "Child":
    """``sbx_spawn_with`` into a :class:`Child` (io modes as for Policy.spawn)."""
    from ._api import Child, _stdio
    io = SbxIo()
    io.size = ctypes.sizeof(SbxIo)
    io.stdin_mode, io.stdin_fd = _stdio(stdin, 0)
    io.stdout_mode, io.stdout_fd = _stdio(stdout, 1)
    io.stderr_mode, io.stderr_fd = _stdio(stderr, 2)
    opts = call.opts()
    opts.io = ctypes.pointer(io)
    opts.capture = 1 if capture else 0
    buf = None
    if data is not None:
        buf = ctypes.create_string_buffer(data, len(data) or 1)
        opts.input = ctypes.cast(buf, ctypes.c_void_p)
        opts.input_len = len(data)
    h = c_child_p()
    lib.sbx_spawn_with(call.cpol, argv, ctypes.byref(opts), ctypes.byref(h))
    child = Child()
    child._ptr = h.value
    # the violation callback, the operations' handlers and the input outlive the spawn
    child._keep = (pol._callback, pol._capabilities, buf)
    child.args = argl
    child.pid = lib.sbx_child_pid(h.value)
    return child


async def _await_end(child: "Child") -> int:
    """Await the end of a child spawned here; a C result pointer.  Cancelled: the
    child is killed and reaped (``sbx_child_free``) before the cancellation goes on."""
    engine = _Engine(asyncio.get_running_loop(), child._handle())
    try:
        return await engine.done
    except BaseException:
        engine.stop()
        if engine.done.done() and not engine.done.cancelled() and engine.done.exception() is None:
            lib.sbx_result_free(engine.done.result())
        child.close()  # kills the whole group if it still runs, reaps it, frees it
        raise


@overload
async def run_async(args: _Args, *, policy: Optional["Policy"] = ..., capture_output: bool = ...,
                    input: Optional[Union[bytes, str]] = ..., timeout: Optional[float] = ...,
                    stdin: Any = ..., stdout: Any = ..., stderr: Any = ..., cwd: Optional[_StrPath] = ...,
                    env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
                    text: Literal[True], encoding: Optional[str] = ...,
                    errors: Optional[str] = ...) -> "SandboxResult[str]": ...
@overload
async def run_async(args: _Args, *, policy: Optional["Policy"] = ..., capture_output: bool = ...,
                    input: Optional[Union[bytes, str]] = ..., timeout: Optional[float] = ...,
                    stdin: Any = ..., stdout: Any = ..., stderr: Any = ..., cwd: Optional[_StrPath] = ...,
                    env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
                    text: Optional[bool] = ..., encoding: str,
                    errors: Optional[str] = ...) -> "SandboxResult[str]": ...
@overload
async def run_async(args: _Args, *, policy: Optional["Policy"] = ..., capture_output: bool = ...,
                    input: Optional[Union[bytes, str]] = ..., timeout: Optional[float] = ...,
                    stdin: Any = ..., stdout: Any = ..., stderr: Any = ..., cwd: Optional[_StrPath] = ...,
                    env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
                    text: Optional[bool] = ..., encoding: Optional[str] = ...,
                    errors: str) -> "SandboxResult[str]": ...
@overload
async def run_async(args: _Args, *, policy: Optional["Policy"] = ..., capture_output: bool = ...,
                    input: Optional[bytes] = ..., timeout: Optional[float] = ...,
                    stdin: Any = ..., stdout: Any = ..., stderr: Any = ..., cwd: Optional[_StrPath] = ...,
                    env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
                    text: Literal[False, None] = ..., encoding: None = ...,
                    errors: None = ...) -> "SandboxResult[bytes]": ...
@overload
async def run_async(args: _Args, *, policy: Optional["Policy"] = ..., capture_output: bool = ...,
                    input: Optional[Union[bytes, str]] = ..., timeout: Optional[float] = ...,
                    stdin: Any = ..., stdout: Any = ..., stderr: Any = ..., cwd: Optional[_StrPath] = ...,
                    env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
                    text: Optional[bool] = ..., encoding: Optional[str] = ...,
                    errors: Optional[str] = ...) -> "SandboxResult[Any]": ...


async def run_async(args: _Args, *, policy: Optional["Policy"] = None, capture_output: bool = False,
                    input: Optional[Union[bytes, str]] = None, timeout: Optional[float] = None,
                    stdin: Any = None, stdout: Any = None, stderr: Any = None,
                    cwd: Optional[_StrPath] = None, env: Optional[Mapping[str, Optional[str]]] = None,
                    check: bool = False, text: Optional[bool] = False, encoding: Optional[str] = None,
                    errors: Optional[str] = None) -> "SandboxResult[Any]":
    """Run ``args`` confined and await its end: :meth:`agentsbx.Policy.run` for asyncio,
    with the same arguments and the same :class:`agentsbx.SandboxResult`.

    ``policy``: an :class:`agentsbx.Policy` (default: a new default policy).
    With ``capture_output`` the library reads both streams through the policy's
    output filter (redaction, escapes) into the result, up to ``limit(output=)``;
    ``input`` is fed by the library too.  The child is driven from the running
    loop (its descriptor with ``add_reader``, its deadline with a timer): no
    thread.  ``timeout`` as for ``run``: the child is killed with its tree and
    :class:`agentsbx.TimeoutExpired` carries ``result``.  Cancelling the await
    kills the child and reaps it before the cancellation propagates.

    ``stdin``/``stdout``/``stderr``: None (stdin: /dev/null; the others: the
    host's), :data:`DEVNULL`, a descriptor or a file.  :data:`PIPE` is refused
    (:class:`ValueError`), since nothing would read it: use ``capture_output``
    and ``input``, or :meth:`Policy.spawn_async` to stream.
    """
    from ._api import DEVNULL, Policy, _argv, _input, _result_from_c
    for name, spec in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr)):
        if _is_pipe(spec):
            raise ValueError(f"run_async({name}=PIPE): nothing would read or write that pipe; use "
                             "capture_output=True / input=, or Policy.spawn_async() to stream")
    if capture_output and (stdout is not None or stderr is not None):
        raise ValueError("stdout and stderr arguments may not be used with capture_output")
    if input is not None and stdin is not None:
        raise ValueError("stdin and input arguments may not both be used")
    argl, argv = _argv(args)
    data = _input(input, bool(text), encoding)
    own = policy is None
    pol = Policy() if policy is None else policy
    try:
        call = pol._policy_for(cwd, env, timeout)
        try:
            child = _spawn_with(pol, call, argl, argv, stdin=DEVNULL if stdin is None else stdin,
                                stdout=stdout, stderr=stderr, capture=capture_output, data=data)
        finally:
            call.close()
    finally:
        if own:
            pol.close()
    with child:
        r = await _await_end(child)
        try:
            res = _result_from_c(r, argl, capture_output, text=bool(text), encoding=encoding, errs=errors)
        finally:
            lib.sbx_result_free(r)
        child.result = res
        child.returncode = res.returncode
    if call.timeout_effective and res.status == "timed_out":
        raise _err.TimeoutExpired(argl, timeout, res.stdout, res.stderr,  # type: ignore[arg-type]
                                  result=res)
    if check:
        res.check_returncode()
    return res


# ---- streaming: spawn_async ------------------------------------------------------

#: ``on_output(stream, data)``: 1 or 2, and the filtered bytes as they come.
OutputCallback = Callable[[int, bytes], None]


class _FilteredPipe(asyncio.Protocol):
    """The read end of a child's stdout or stderr: bytes through the output filter,
    then into a StreamReader (with its flow control) and the on_output callback."""

    def __init__(self, loop: asyncio.AbstractEventLoop, filt: OutputFilter, stream: int,
                 reader: Optional[asyncio.StreamReader], on_output: Optional[OutputCallback]) -> None:
        self.loop = loop
        self.filt = filt
        self.stream = stream
        self.reader = reader
        self.on_output = on_output
        self.transport: Optional[asyncio.ReadTransport] = None
        self.closed: "asyncio.Future[None]" = loop.create_future()
        self.ended = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.reader is not None:
            self.reader.set_transport(self)  # type: ignore[arg-type]  # flow control through us

    # The reader's flow control (it calls these when its buffer fills and drains).
    paused = False

    def pause_reading(self) -> None:
        self.paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.paused = False
        if self.transport is not None:
            self.transport.resume_reading()

    def _emit(self, out: bytes) -> None:
        if not out:
            return
        if self.reader is not None:
            self.reader.feed_data(out)
        if self.on_output is not None:
            try:
                self.on_output(self.stream, out)
            except Exception as exc:  # the loop's handler reports it; the stream goes on
                self.loop.call_exception_handler({"message": "agentsbx on_output callback failed",
                                                  "exception": exc, "protocol": self})

    def data_received(self, data: bytes) -> None:
        self._emit(self.filt.write(data))

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self._emit(self.filt.finish())
            if self.reader is not None:
                self.reader.feed_eof()

    def eof_received(self) -> bool:
        self._end()
        return False

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._end()
        self.filt.close()
        if not self.closed.done():
            self.closed.set_result(None)


class AsyncChild:
    """A confined child driven by the running event loop, from :meth:`Policy.spawn_async`
    (the counterpart of :class:`asyncio.subprocess.Process`).

    ``stdin`` is an :class:`asyncio.StreamWriter` and ``stdout``/``stderr``
    :class:`asyncio.StreamReader` objects for the streams spawned with :data:`PIPE`
    (else None); what is read from them has passed through the policy's output
    filter.  ``await wait()`` returns the :class:`SandboxResult`; cancelling it,
    :meth:`close` and leaving ``async with`` kill the child (its whole tree) and
    reap it.  As with asyncio's processes, read a ``PIPE`` stream while
    awaiting ``wait()``: a full reader pauses the pipe, and the child then
    blocks writing.
    """

    stdin: Optional[asyncio.StreamWriter]
    stdout: Optional[asyncio.StreamReader]
    stderr: Optional[asyncio.StreamReader]

    def __init__(self, child: "Child", pipes: List[_FilteredPipe]) -> None:
        self._child = child
        self._pipes = pipes
        self._engine: Optional["asyncio.Future[SandboxResult[bytes]]"] = None
        self.stdin = self.stdout = self.stderr = None
        self.args: List[Any] = child.args
        self.pid: int = child.pid

    @property
    def returncode(self) -> Optional[int]:
        """The return code once ended (as :attr:`SandboxResult.returncode`), else None."""
        return self._child.returncode

    @property
    def result(self) -> "Optional[SandboxResult[bytes]]":
        """The :class:`SandboxResult` once :meth:`wait` returned, else None."""
        return self._child.result

    @property
    def redactions(self) -> int:
        """Secrets replaced so far in the piped streams."""
        return sum(p.filt.redactions for p in self._pipes)

    async def _run(self) -> "SandboxResult[bytes]":
        from ._api import _result_from_c
        r = await _await_end(self._child)
        try:
            res: "SandboxResult[bytes]" = _result_from_c(r, self.args, False)
        finally:
            lib.sbx_result_free(r)
        # The tree is dead: what is left in the pipes comes now, unless a
        # reader nobody reads has paused its pipe.
        waits = [p.closed for p in self._pipes if not p.paused and not p.closed.done()]
        if waits:
            await asyncio.wait(waits, timeout=2.0)
        res = dataclasses.replace(res, redactions=self.redactions,
                                  escapes=sum(p.filt.escapes for p in self._pipes))
        self._child.result = res
        self._child.returncode = res.returncode
        self._child.close()  # ended and reaped: free its descriptors now, not at garbage collection
        return res

    async def wait(self) -> "SandboxResult[bytes]":
        """Await the end of the child (enforcing its wall limit and answering its
        monitor) and return its :class:`SandboxResult` (``stdout``/``stderr`` None:
        read the streams; ``redactions``/``escapes`` count the piped streams).
        Cancelling the await kills and reaps the child."""
        if self._child.result is not None:
            return self._child.result
        if self._engine is None:
            self._engine = asyncio.ensure_future(self._run())
        try:
            return await asyncio.shield(self._engine)
        except asyncio.CancelledError:
            self._engine.cancel()
            self.close()
            raise

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the child's main process (no-op once it has ended)."""
        self._child.send_signal(sig)

    def terminate(self) -> None:
        """SIGTERM to the child's main process."""
        self._child.terminate()

    def kill(self) -> None:
        """Kill the child's whole process group (status ``"killed"``)."""
        self._child.kill()

    def close(self) -> None:
        """Kill the child if it runs, reap it, close the pipes (idempotent)."""
        if self._engine is not None and not self._engine.done():
            self._engine.cancel()
        self._child.close()
        for p in self._pipes:
            if p.transport is not None:
                p.transport.close()
        if self.stdin is not None:
            self.stdin.close()

    async def __aenter__(self) -> "AsyncChild":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await asyncio.sleep(0)  # let the transports finish closing

    def __repr__(self) -> str:
        return f"<agentsbx.AsyncChild pid={self.pid} returncode={self.returncode}>"


async def spawn_async(pol: "Policy", args: _Args, *, stdin: Any = None, stdout: Any = None,
                      stderr: Any = None, input: Optional[bytes] = None,
                      on_output: Optional[OutputCallback] = None, cwd: Optional[_StrPath] = None,
                      env: Optional[Mapping[str, Optional[str]]] = None, timeout: Optional[float] = None,
                      limit: int = 2**16) -> AsyncChild:
    """The body of :meth:`agentsbx.Policy.spawn_async`."""
    from ._api import DEVNULL, PIPE, _argv, _input
    if on_output is not None and not callable(on_output):
        raise TypeError("on_output needs a callable or None")
    if input is not None and stdin is not None:
        raise ValueError("stdin and input arguments may not both be used")
    argl, argv = _argv(args)
    data = _input(input, False, None)
    # With on_output, a stream left None is piped to it (not inherited).
    specs = [DEVNULL if stdin is None else stdin,
             PIPE if stdout is None and on_output is not None else stdout,
             PIPE if stderr is None and on_output is not None else stderr]
    loop = asyncio.get_running_loop()
    call = pol._policy_for(cwd, env, timeout)
    filters: List[OutputFilter] = []
    try:
        for n in (1, 2):
            if _is_pipe(specs[n]):
                filters.append(OutputFilter._from_handle(call.cpol, n))
        child = _spawn_with(pol, call, argl, argv, stdin=specs[0], stdout=specs[1], stderr=specs[2],
                            capture=False, data=data)
    except BaseException:
        for f in filters:
            f.close()
        raise
    finally:
        call.close()
    pipes: List[_FilteredPipe] = []
    ac = AsyncChild(child, pipes)
    try:
        for n in (1, 2):
            if not _is_pipe(specs[n]):
                continue
            reader = asyncio.StreamReader(limit=limit, loop=loop) if _is_pipe([stdin, stdout, stderr][n]) \
                else None
            proto = _FilteredPipe(loop, filters.pop(0), n, reader, on_output)
            pipes.append(proto)
            fd = os.dup(child.stdio_fd(n))  # type: ignore[arg-type]
            child.close_stdio(n)  # the transport owns the duplicate
            await loop.connect_read_pipe(lambda: proto, os.fdopen(fd, "rb", buffering=0))
            if n == 1:
                ac.stdout = reader
            else:
                ac.stderr = reader
        if _is_pipe(specs[0]):
            fd = os.dup(child.stdio_fd(0))  # type: ignore[arg-type]
            child.close_stdio(0)
            wproto = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop)
            wt, _ = await loop.connect_write_pipe(lambda: wproto, os.fdopen(fd, "wb", buffering=0))
            ac.stdin = asyncio.StreamWriter(wt, wproto, None, loop)
    except BaseException:
        for f in filters:
            f.close()
        ac.close()
        raise
    return ac
