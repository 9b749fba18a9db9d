"""asyncio: awaiting many confined children from one event loop (the
supervisor behind Child.wait_async and run_async), and the Supervisor class."""

import asyncio
import errno
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


# ---- run_async with capture, spawn_async with streams (issue 19, item 2) ----------

PY = "/usr/bin/python3"
SECRET = "hunter22-secret"
#: Prints its argument, then sleeps (sh cannot exec sleep under the default policy).
SLEEPER = "import time; print({!r}, flush=True); time.sleep(60)"


def warm(policy):
    """A policy opens its grants at its first spawn, and builds its view's
    shared tree at its second, and keeps them open: do both first, so that
    counting descriptors sees only what a child leaves."""
    policy.run(["true"])
    policy.run(["true"])
    quiet(policy)


def quiet(policy):
    """End the sandbox the policy keeps prepared for its next run of a program
    it ran twice in a row (prepare_ahead "auto", the default): it holds a child
    and descriptors between runs."""
    policy.prepare_ahead(False).prepare_ahead("auto")


def procs_with(marker):
    """Processes whose command line contains ``marker`` (ours: a unique argument)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_asyncio__run_async_same_result_as_run(policy):
    policy.redact(SECRET)
    prog = ["sh", "-c", f'read x; echo "got $x {SECRET}"; echo oops >&2; exit 4']
    sync = policy.run(prog, capture_output=True, text=True, input="in\n")
    res = asyncio.run(agentsbx.run_async(prog, policy=policy, capture_output=True, text=True, input="in\n"))
    assert res.stdout == sync.stdout == "got in [REDACTED]\n"
    assert res.stderr == sync.stderr == "oops\n"
    assert (res.returncode, res.status, res.redactions) == (sync.returncode, sync.status, 1) == (4, "exited", 1)
    b = asyncio.run(agentsbx.run_async(["sh", "-c", "printf '\\033[31m'"], policy=policy.copy().escape_output("neutralise"),
                                       capture_output=True))
    assert b.stdout == b"\\x1b[31m" and b.escapes == 1
    quiet(policy)
    assert no_child_left()


def test_asyncio__run_async_timeout_kills_and_keeps_output():
    async def main():
        with pytest.raises(agentsbx.TimeoutExpired) as ei:
            await agentsbx.run_async([PY, "-c", SLEEPER.format("started")], capture_output=True,
                                     timeout=0.5)
        return ei.value

    e = asyncio.run(main())
    assert e.result.status == "timed_out" and e.stdout == b"started\n" and e.timeout == 0.5
    assert no_child_left()


def test_asyncio__run_async_pipe_is_refused_at_spawn():
    """An unread PIPE would deadlock a child with more than a pipe's worth of output."""
    for kw in ({"stdout": agentsbx.PIPE}, {"stderr": agentsbx.PIPE}, {"stdin": agentsbx.PIPE}):
        with pytest.raises(ValueError, match=r"=PIPE\): nothing would read or write that pipe"):
            asyncio.run(agentsbx.run_async(["true"], **kw))
    with pytest.raises(ValueError, match="may not be used with capture_output"):
        asyncio.run(agentsbx.run_async(["true"], capture_output=True, stdout=agentsbx.DEVNULL))
    with pytest.raises(ValueError, match="stdin and input"):
        asyncio.run(agentsbx.run_async(["true"], stdin=agentsbx.DEVNULL, input=b"x"))
    with pytest.raises(TypeError, match="pass text=True"):
        asyncio.run(agentsbx.run_async(["true"], input="str"))
    assert no_child_left()


def test_asyncio__run_async_cancel_kills_and_reaps():
    marker = f"agentsbx-cancel-{os.getpid()}"

    async def main():
        task = asyncio.ensure_future(agentsbx.run_async([PY, "-c", SLEEPER.format("") + "  # " + marker],
                                                        capture_output=True))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if procs_with(marker):
                break
        assert procs_with(marker), "the child never started"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    before = fd_count()
    asyncio.run(main())
    assert procs_with(marker) == []  # killed, with its tree
    assert no_child_left()  # and reaped
    assert fd_count() == before


def test_asyncio__50_concurrent_run_async(tmp_path):
    """Capture and redaction, 10 MB floods, time-outs, cancellations, all at once.

    Three floods only: 10 MB each through the output filter is seconds of CPU in
    a debug or sanitizer build, and the cores are shared; the time bounds of the
    floods and plain runs are generous (a bound, not an expectation)."""
    tmp = tmp_path / "tmpdirs"
    tmp.mkdir()
    limit = 1 << 20
    floods = {0, 20, 40}

    def kind(i):
        if i in floods:
            return "flood"
        return {1: "timeout", 2: "cancel"}.get(i % 5, "plain")

    async def one(i, pol):
        k = kind(i)
        if k == "flood":  # 10 MB: truncated at the output limit, the child ends normally
            return await agentsbx.run_async([PY, "-c", "import sys; sys.stdout.buffer.write(b'x' * 10_000_000)"],
                                            policy=pol, capture_output=True, timeout=400)
        if k == "timeout":
            return await agentsbx.run_async([PY, "-c", SLEEPER.format(i)], policy=pol,
                                            capture_output=True, timeout=1)
        if k == "cancel":  # cancelled below
            return await agentsbx.run_async(["sleep", "60"], policy=pol, capture_output=True)
        return await agentsbx.run_async(["sh", "-c", f'read x; echo "$x {SECRET} {i}"; echo e{i} >&2'],
                                        policy=pol, capture_output=True, text=True, input=f"n{i}\n",
                                        timeout=400)

    async def main():
        with agentsbx.Policy() as pol:
            pol.redact(SECRET).tmp_parent(tmp).limit(output=limit)
            tasks = [asyncio.ensure_future(one(i, pol)) for i in range(50)]
            await asyncio.sleep(0.5)
            for i in range(50):
                if kind(i) == "cancel":
                    tasks[i].cancel()
            return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 450)

    agentsbx.run(["true"], capture_output=True)  # the library opens what it keeps for all runs once
    before = fd_count()
    results = asyncio.run(main())
    for i, r in enumerate(results):
        k = kind(i)
        if k == "flood":
            assert not isinstance(r, BaseException) and r.status == "exited" and r.returncode == 0, (i, r)
            assert r.stdout == b"x" * limit and r.stdout_truncated and r.stderr == b""
        elif k == "timeout":
            assert isinstance(r, agentsbx.TimeoutExpired), (i, r)
            assert r.result.status == "timed_out" and r.stdout == f"{i}\n".encode()
        elif k == "cancel":
            assert isinstance(r, asyncio.CancelledError), (i, r)
        else:
            assert not isinstance(r, BaseException) and r.status == "exited", (i, r)
            assert r.stdout == f"n{i} [REDACTED] {i}\n" and r.stderr == f"e{i}\n" and r.redactions == 1
    assert [sum(kind(i) == k for i in range(50)) for k in ("flood", "timeout", "cancel", "plain")] == [3, 10, 10, 27]
    assert fd_count() == before
    assert no_child_left()
    assert os.listdir(tmp) == []  # every private TMPDIR removed


def test_asyncio__spawn_async_streams_filtered(policy):
    policy.redact(SECRET)
    seen = []

    async def main():
        c = await policy.spawn_async(
            ["sh", "-c", f"for i in 1 2 3; do echo line$i {SECRET}; done; echo err >&2; exit 3"],
            stdout=agentsbx.PIPE, stderr=agentsbx.PIPE, on_output=lambda s, d: seen.append((s, d)))
        assert c.pid > 0 and c.returncode is None and c.stdin is None
        lines = [line async for line in c.stdout]
        err = await c.stderr.read()
        res = await c.wait()
        assert await c.wait() is res
        return lines, err, res

    warm(policy)
    before = fd_count()
    lines, err, res = asyncio.run(main())
    assert lines == [f"line{i} [REDACTED]\n".encode() for i in (1, 2, 3)]
    assert err == b"err\n"
    assert res.status == "exited" and res.returncode == 3 and res.redactions == 3 and res.stdout is None
    assert b"".join(d for s, d in seen if s == 1) == b"".join(lines)
    assert [d for s, d in seen if s == 2] == [b"err\n"]
    quiet(policy)
    assert fd_count() == before and no_child_left()


def test_asyncio__spawn_async_stdin_and_large_output(policy):
    """Flow control: 10 MB through a StreamReader with a small buffer, read slowly."""
    async def main():
        c = await policy.spawn_async([PY, "-c", "import sys; d = sys.stdin.buffer.read(); "
                                      "sys.stdout.buffer.write(d * 2_500_000)"],
                                     stdin=agentsbx.PIPE, stdout=agentsbx.PIPE, limit=4096)
        c.stdin.write(b"abcd")
        await c.stdin.drain()
        c.stdin.close()
        n = 0
        while True:
            chunk = await c.stdout.read(65536)
            if not chunk:
                break
            assert chunk == b"abcd" * (len(chunk) // 4) or n % 4 != 0 or len(chunk) % 4 != 0
            n += len(chunk)
        res = await c.wait()
        return n, res

    n, res = asyncio.run(main())
    assert n == 10_000_000 and res.status == "exited" and res.returncode == 0
    assert no_child_left()


def test_asyncio__spawn_async_on_output_only_and_timeout(policy):
    got = []

    async def main():
        c = await policy.spawn_async([PY, "-c", "import sys, time; print('a', flush=True); "
                                      "print('b', file=sys.stderr, flush=True); time.sleep(60)"],
                                     on_output=lambda s, d: got.append((s, d)), timeout=0.5)
        assert c.stdout is None and c.stderr is None  # piped to on_output only
        return await c.wait()

    res = asyncio.run(main())
    assert res.status == "timed_out" and sorted(got) == [(1, b"a\n"), (2, b"b\n")]
    assert no_child_left()


def test_asyncio__spawn_async_cancel_and_close_kill_and_reap(policy):
    async def main():
        c = await policy.spawn_async(["sleep", "60"], stdout=agentsbx.PIPE)
        t = asyncio.ensure_future(c.wait())
        await asyncio.sleep(0.2)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        async with await policy.spawn_async(["sleep", "60"]) as d:
            pass
        return c.pid, d.pid

    warm(policy)
    before = fd_count()
    pids = asyncio.run(main())
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    quiet(policy)
    assert fd_count() == before and no_child_left()


def test_asyncio__spawn_async_bad_input(policy):
    async def main():
        with pytest.raises(TypeError, match="on_output needs a callable"):
            await policy.spawn_async(["true"], on_output=3)
        with pytest.raises(ValueError, match="stdin and input"):
            await policy.spawn_async(["true"], stdin=agentsbx.DEVNULL, input=b"x")
        with pytest.raises(agentsbx.ProgramNotFoundError):
            await policy.spawn_async(["agentsbx-no-such-program"], stdout=agentsbx.PIPE)

    warm(policy)
    before = fd_count()
    asyncio.run(main())
    quiet(policy)
    assert fd_count() == before and no_child_left()


# ---- OutputFilter (issue 19, item 3) ------------------------------------------------

def test_output_filter__redacts_across_writes(policy):
    policy.redact(SECRET).escape_output("neutralise")
    with agentsbx.OutputFilter(policy, 2) as f:
        assert f.stream == 2
        out = f.write(b"a " + SECRET[:5].encode())
        out += f.write(SECRET[5:].encode() + b" \x1b[2J b")
        out += f.finish()
        assert f.finish() == b""
        assert out == b"a [REDACTED] \\x1b[2J b"
        assert (f.redactions, f.escapes) == (1, 1)
        with pytest.raises(agentsbx.SandboxError) as ei:
            f.write(b"more")
        assert ei.value.errno == errno.EPIPE
    assert (f.redactions, f.escapes) == (1, 1)  # still readable once closed
    with pytest.raises(ValueError, match="closed OutputFilter"):
        f.write(b"x")


def test_output_filter__patterns_and_independence(policy):
    f = agentsbx.OutputFilter(policy)
    policy.redact("added-after-the-filter")  # later changes do not reach it
    policy.close()  # and it outlives the policy
    out = f.write(b"key AKIAIOSFODNN7EXAMPLE added-after-the-filter\n") + f.finish()
    assert out == b"key [REDACTED] added-after-the-filter\n" and f.redactions == 1
    f.close()
    f.close()


def test_output_filter__bad_input(policy):
    with pytest.raises(TypeError, match="policy must be an agentsbx.Policy"):
        agentsbx.OutputFilter(None)
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        agentsbx.OutputFilter(policy, 3)
    assert ei.value.errno == errno.EINVAL and "stream" in ei.value.message
    with pytest.raises(TypeError, match="stream must be an int"):
        agentsbx.OutputFilter(policy, "1")
    with agentsbx.OutputFilter(policy) as f:
        with pytest.raises(TypeError, match="data must be bytes"):
            f.write("text")
    closed = agentsbx.Policy()
    closed.close()
    with pytest.raises(ValueError, match="closed Policy"):
        agentsbx.OutputFilter(closed)
