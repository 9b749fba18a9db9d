"""Spawn, poll, wait, kill, fileno, threads, leaks (as tests/live/test_supervise.c)."""

import gc
import os
import selectors
import signal
import threading
import time

import pytest

import agentsbx
from conftest import PY


def test_supervise__poll_none_while_running_then_result(policy):
    with policy.spawn(["sleep", "0.3"]) as c:
        assert c.poll() is None and c.returncode is None and c.result is None
        assert c.pid > 0 and os.getpgid(c.pid) == c.pid
        assert c.wait() == 0 and c.poll() == 0
        assert c.result.status == "exited" and c.result.args == ["sleep", "0.3"]


def test_supervise__fileno_readable_on_exit_with_selectors(policy):
    with policy.spawn(["sleep", "0.2"]) as c:
        sel = selectors.DefaultSelector()
        sel.register(c, selectors.EVENT_READ)
        t = time.monotonic()
        while c.poll() is None:
            sel.select(timeout=5)
            assert time.monotonic() - t < 5
        sel.close()
        assert c.returncode == 0


def test_supervise__asyncio_reader(policy):
    import asyncio

    async def main():
        loop = asyncio.get_running_loop()
        with policy.spawn(["sleep", "0.1"]) as c:
            done = loop.create_future()

            def ready():
                if c.poll() is not None and not done.done():
                    done.set_result(c.returncode)
            loop.add_reader(c.fileno(), ready)
            try:
                return await asyncio.wait_for(done, 5)
            finally:
                loop.remove_reader(c.fileno())
    assert asyncio.run(main()) == 0


def test_supervise__wait_timeout_leaves_child_running(policy):
    with policy.spawn(["sleep", "30"]) as c:
        with pytest.raises(agentsbx.TimeoutExpired):
            c.wait(timeout=0.1)
        assert c.poll() is None
        c.kill()
        assert c.wait() == -signal.SIGKILL and c.result.status == "killed"


def test_supervise__spawn_timeout_kills_from_python(policy):
    with policy.spawn(["sleep", "30"], timeout=0.2) as c:
        assert c.timeout_remaining() is not None and c.timeout_remaining() <= 0.2
        t = time.monotonic()
        assert c.wait(timeout=10) == -signal.SIGKILL
        assert c.result.status == "timed_out" and time.monotonic() - t < 5


def test_supervise__signal_and_terminate(policy):
    with policy.spawn(["sleep", "30"]) as c:
        c.send_signal(signal.SIGUSR1)
        assert c.wait() == -signal.SIGUSR1 and c.result.status == "signaled"
    with policy.spawn(["sleep", "30"]) as c:
        c.terminate()
        assert c.wait() == -signal.SIGTERM
        c.kill()  # after the end: a no-op


def test_supervise__communicate_timeout(policy):
    code = "import time; print('part', flush=True); time.sleep(30)"
    with policy.spawn([PY, "-c", code], stdout=agentsbx.PIPE) as c:
        with pytest.raises(agentsbx.TimeoutExpired) as ei:
            c.communicate(timeout=0.5)
        assert c.poll() is None and ei.value.stdout == b"part\n"
        c.kill()
        c.wait()


def test_supervise__close_kills_running_child(policy):
    c = policy.spawn(["sleep", "30"])
    pid = c.pid
    c.close()
    c.close()
    with pytest.raises(ValueError):
        c.poll()
    assert _gone(pid)


def test_supervise__child_outlives_policy_close(workdir):
    p = agentsbx.Policy()
    c = p.spawn(["sleep", "0.1"])
    p.close()
    with pytest.raises(ValueError):
        p.run(["true"])
    assert c.wait() == 0
    c.close()


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_supervise__threads_spawn_at_once(policy):
    policy.deny_syscall("getppid")
    errors, results = [], []

    def worker(i):
        try:
            for _ in range(5):
                r = policy.run([PY, "-c", f"import os; os.getppid(); print({i})"], capture_output=True,
                               timeout=30)
                results.append((i, r.stdout, r.violation_count))
            with policy.spawn(["sh", "-c", f"exit {i}"]) as c:
                assert c.wait() == i
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(results) == sorted((i, f"{i}\n".encode(), 1) for i in range(8) for _ in range(5))


def _children():
    kids = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                kids.update(f.read().split())
        except FileNotFoundError:
            pass
    return kids


def test_supervise__many_runs_leak_nothing(policy, workdir):
    policy.set_workdir(workdir)
    for _ in range(5):  # warm up
        policy.run(["true"], capture_output=True)
    policy.prepare_ahead(False).prepare_ahead("auto")  # counted without a prepared sandbox
    gc.collect()
    fds = len(os.listdir("/proc/self/fd"))
    for i in range(500):
        if i % 3 == 0:
            policy.run(["true"], capture_output=True)
        elif i % 3 == 1:
            policy.run(["true"], cwd=workdir, env={"A": "b"}, timeout=10)  # temporary policies
        else:
            agentsbx.Policy().spawn(["true"])  # neither waited for nor closed: __del__ reaps
    policy.prepare_ahead(False)  # ends the sandbox prepared for the next run of "true"
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) == fds
    assert _children() == set(), "zombie or leftover children"
