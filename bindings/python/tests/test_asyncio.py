"""asyncio: awaiting many confined children from one event loop (the
supervisor behind Child.wait_async and run_async), and the Supervisor class."""

import asyncio
import os
import select
import signal
import time

import pytest

import agentsbx


def fd_count():
    # The library keeps one descriptor for the life of the process once a child
    # has needed its init (the sealed memfd it is executed from): made first.
    agentsbx.Policy().run(["true"])
    return len(os.listdir("/proc/self/fd"))


def no_child_left():
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG | 0x40000000)  # __WALL
    except ChildProcessError:
        return True
    return False


def test_asyncio__50_children_gather_one_times_out():
    async def main():
        with agentsbx.Policy() as quick, agentsbx.Policy() as slow:
            slow.limit(wall_time=1.0)
            kids = [quick.spawn(["/bin/sleep", "0.3"], stdin=agentsbx.DEVNULL) for _ in range(49)]
            late = slow.spawn(["/bin/sleep", "60"], stdin=agentsbx.DEVNULL)
            kids.append(late)
            t0 = time.monotonic()
            codes = await asyncio.wait_for(asyncio.gather(*(k.wait_async() for k in kids)), 30)
            took = time.monotonic() - t0
            return kids, codes, took

    before = fd_count()
    kids, codes, took = asyncio.run(main())
    assert codes[:49] == [0] * 49
    assert codes[49] == -signal.SIGKILL
    for k in kids[:49]:
        assert k.result.status == "exited" and k.result.wall_time >= 0.3
    assert kids[49].result.status == "timed_out", kids[49].result
    assert kids[49].result.wall_time >= 1.0
    assert took < 20  # a correctness bound: the timeout fired, nobody waited for sleep 60
    for k in kids:
        k.close()
    assert fd_count() == before
    assert no_child_left()


def test_asyncio__deadline_needs_no_timer_of_ours():
    """Only the supervisor's descriptor is registered: the loop wakes at the deadline."""
    async def main():
        loop = asyncio.get_running_loop()
        with agentsbx.Policy() as p:
            p.limit(wall_time=0.3)
            c = p.spawn(["/bin/sleep", "60"], stdin=agentsbx.DEVNULL)
            handles = len(loop._scheduled) if hasattr(loop, "_scheduled") else 0
            code = await c.wait_async()
            assert (len(loop._scheduled) if hasattr(loop, "_scheduled") else 0) == handles
            return c, code

    c, code = asyncio.run(main())
    assert code == -signal.SIGKILL and c.result.status == "timed_out"
    c.close()


def test_asyncio__run_async_timeout_and_check():
    async def main():
        ok = await agentsbx.run_async(["/bin/sh", "-c", "exit 3"])
        assert ok.returncode == 3 and ok.status == "exited"
        with pytest.raises(agentsbx.SandboxProcessError):
            await agentsbx.run_async(["/bin/sh", "-c", "exit 3"], check=True)
        with pytest.raises(agentsbx.TimeoutExpired) as ei:
            await agentsbx.run_async(["/bin/sleep", "60"], timeout=0.3)
        assert ei.value.result.status == "timed_out"

    asyncio.run(main())
    assert no_child_left()


def test_asyncio__cancel_gives_the_child_back():
    async def main():
        with agentsbx.Policy() as p:
            c = p.spawn(["/bin/sleep", "60"], stdin=agentsbx.DEVNULL)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.wait_async(), 0.2)
            assert c._supervisor is None
            assert c.poll() is None  # ours again, still running
            c.kill()
            assert await c.wait_async() == -signal.SIGKILL  # and it can be awaited again
            return c

    c = asyncio.run(main())
    assert c.result.status == "killed"
    c.close()


def test_asyncio__awaited_child_refuses_sync_wait_and_close_takes_it_back():
    async def main():
        with agentsbx.Policy() as p:
            c = p.spawn(["/bin/sleep", "60"], stdin=agentsbx.DEVNULL)
            task = asyncio.ensure_future(c.wait_async())
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError, match="supervised"):
                c.poll()
            with pytest.raises(RuntimeError, match="supervised"):
                c.wait()
            pid = c.pid
            c.close()  # kills and reaps it; the waiter is cancelled
            with pytest.raises(asyncio.CancelledError):
                await task
            return pid

    before = fd_count()
    pid = asyncio.run(main())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert fd_count() == before


def test_asyncio__violations_answered_while_awaited():
    # SBX_PROBE_DIR, or the build tree the library was loaded from
    build = os.path.dirname(os.path.dirname(os.path.abspath(agentsbx.library_path)))
    probe_dir = os.environ.get("SBX_PROBE_DIR") or os.path.join(build, "tests", "hostile")
    probe = os.path.join(probe_dir, "probe_syscall")
    if not os.access(probe, os.X_OK):
        pytest.skip(f"{probe} not built (set SBX_PROBE_DIR)")

    async def main():
        with agentsbx.Policy() as p:
            p.allow_path(os.path.dirname(probe), "rx")
            c = p.spawn([probe, "ptrace"], stdin=agentsbx.DEVNULL, stdout=agentsbx.DEVNULL)
            await c.wait_async()
            return c

    c = asyncio.run(main())
    assert c.result.status == "exited", c.result
    assert c.result.violation_count >= 1 and c.result.violations[0].syscall == "ptrace"
    c.close()


def test_supervisor__sync_loop():
    with agentsbx.Policy() as p, agentsbx.Supervisor() as sup:
        p.limit(wall_time=0.5)
        kids = [p.spawn(["/bin/sleep", s], stdin=agentsbx.DEVNULL) for s in ("0.1", "60")]
        for k in kids:
            sup.add(k)
        with pytest.raises(RuntimeError, match="already supervised"):
            sup.add(kids[0])
        assert len(sup) == 2 and 0 < sup.timeout() <= 0.5
        ended = []
        deadline = time.monotonic() + 20
        while len(ended) < 2 and time.monotonic() < deadline:
            select.select([sup], [], [], 5)
            ended += sup.step()
        assert ended == kids  # in the order they ended
        assert [k.result.status for k in kids] == ["exited", "timed_out"]
        assert len(sup) == 0 and sup.timeout() is None
        for k in kids:
            k.close()


def test_supervisor__close_gives_running_children_back():
    with agentsbx.Policy() as p:
        c = p.spawn(["/bin/sleep", "60"], stdin=agentsbx.DEVNULL)
        sup = agentsbx.Supervisor()
        sup.add(c)
        sup.close()
        assert c._supervisor is None and c.poll() is None
        c.kill()
        assert c.wait() == -signal.SIGKILL
        c.close()
        with pytest.raises(ValueError):
            sup.fileno()
