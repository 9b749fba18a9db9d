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
import errno as _errno
import weakref
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import errors as _err
from ._native import c_child_p, c_result_p, c_supervisor_p, lib

__all__ = ["Supervisor", "run_async"]


class Supervisor:
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
        return lib.sbx_supervisor_fd(self._handle())

    def timeout(self) -> Optional[float]:
        """Seconds to the nearest deadline (0 if passed), None if no child has one.
        Not needed with :meth:`fileno`, which wakes up at deadlines itself."""
        ms = lib.sbx_supervisor_timeout_ms(self._handle())
        return None if ms < 0 else ms / 1000.0

    def __len__(self) -> int:
        """The number of children still running."""
        return lib.sbx_supervisor_running(self._handle()) if self._ptr else 0

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
        ended = []
        c, r = c_child_p(), c_result_p()
        while True:
            rc = lib.sbx_supervisor_next(self._handle(), ctypes.byref(c), ctypes.byref(r))
            if rc == -_errno.EAGAIN:
                return ended
            child = self._children.pop(c.value)
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

    def __enter__(self) -> "Supervisor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass


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
            for child, fut in list(self.futures.items()):
                if not fut.done():
                    fut.set_exception(exc)
            self.close()
            return
        for child in ended:
            fut = self.futures.pop(child, None)
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
        return child.returncode
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


async def run_async(args: Union[Sequence[Any], Any], *, policy: Any = None,
                    timeout: Optional[float] = None, stdin: Any = None, stdout: Any = None,
                    stderr: Any = None, cwd: Any = None,
                    env: Optional[Mapping[str, Optional[str]]] = None, check: bool = False) -> Any:
    """Spawn ``args`` confined and await its end: :meth:`agentsbx.Policy.run` for asyncio.

    ``policy``: an :class:`agentsbx.Policy` (default: a new default policy).
    ``timeout``: seconds, the wall-clock limit of this child; when it fires the
    child is killed with its process group and :class:`agentsbx.TimeoutExpired`
    is raised with ``result`` set.  ``stdin``/``stdout``/``stderr`` as for
    :meth:`agentsbx.Policy.spawn` (stdin defaults to /dev/null here); output is
    not captured (read ``PIPE`` streams from your loop, or use ``Policy.run`` in
    an executor).  Returns the :class:`agentsbx.SandboxResult`.
    """
    from ._api import DEVNULL, Policy  # late: _api imports this module

    own = policy is None
    pol = Policy() if own else policy
    try:
        child = pol.spawn(args, stdin=DEVNULL if stdin is None else stdin, stdout=stdout,
                          stderr=stderr, cwd=cwd, env=env, timeout=timeout)
    finally:
        if own:
            pol.close()
    with child:
        await child.wait_async()
        res = child.result
    assert res is not None
    if timeout is not None and res.status == "timed_out":
        raise _err.TimeoutExpired(res.args, timeout, result=res)
    if check:
        res.check_returncode()
    return res
