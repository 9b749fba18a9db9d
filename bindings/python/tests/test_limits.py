"""Limits hit: cpu, file size, memory, open files, processes, wall time (as tests/live/test_limits.c)."""

import os
import signal
import time

import pytest

import agentsbx
from conftest import PY, is_root


def test_limits__cpu_time(policy):
    policy.limit(cpu_time=1, wall_time=20)
    r = policy.run(["sh", "-c", "while :; do :; done"])
    assert r.status == "cpu_limit" and r.signal in (signal.SIGXCPU, signal.SIGKILL)
    # The kernel kills at 1 s of scheduler run time; the user+system times rusage
    # reports are tick-sampled and scaled, and read low on a loaded machine (0.85-0.9 s
    # seen): the bound only says the child really ran into the limit.
    assert r.returncode == -r.signal and r.cpu_time >= 0.5


def test_limits__file_size(policy, workdir):
    policy.set_workdir(workdir).limit(file_size="64K")
    r = policy.run([PY, "-c", "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); open('big', 'wb').write(b'x' * (1 << 20))"], capture_output=True)
    assert (r.status, r.signal, r.returncode) == ("file_size_limit", signal.SIGXFSZ, -signal.SIGXFSZ)
    assert (workdir / "big").stat().st_size == 64 << 10


def test_limits__memory(policy):
    policy.limit(memory="128M")
    r = policy.run([PY, "-c", "b = bytearray(512 << 20)"], capture_output=True)
    if r.limit_mechanisms["memory"] == "cgroup":
        # a root host takes a cgroup by itself: the hit is reported as such
        assert os.geteuid() == 0, r
        assert r.status == "memory_limit" and r.limits_hit == ["memory"], r
    else:
        # RLIMIT_DATA: the allocation fails in the child, reported nowhere
        assert r.status == "exited" and r.returncode == 1 and b"MemoryError" in r.stderr
        assert r.limits_hit == []
    policy.use_cgroup(False)  # the rlimit and the TMPDIR bounds below, even as root
    r = policy.run([PY, "-c", "b = bytearray(32 << 20)"], capture_output=True)
    assert r.returncode == 0, r.stderr
    # the private TMPDIR holds no memory outside the limit (tests/live/test_tmpdir.c)
    # (in the view, the private /tmp is a tmpfs sized by the limit)
    tmp = "tmpfs" if "mount" in r.namespaces else ("disk", "none")
    assert r.limit_mechanisms["memory"] == "rlimit" and r.limit_mechanisms["tmp"] in tmp
    assert r.limit_mechanisms["tmp"] == r.json["tmp_limit"]


def test_limits__open_files(policy):
    policy.limit(open_files=16)
    code = ("import os\nn = 0\ntry:\n    while True: os.open('/dev/null', 0); n += 1\n"
            "except OSError as e: print(e.errno, n < 16)")
    r = policy.run([PY, "-c", code], capture_output=True)
    assert r.stdout == b"24 True\n", r.stderr


def test_limits__processes(policy):
    policy.limit(processes=1)
    if is_root() and agentsbx.probe()["cgroup"].available:
        # RLIMIT_NPROC does not bind root: the limit takes a cgroup of its own.
        r = policy.run([PY, "-c", "import os\ntry: os.fork()\nexcept OSError as e: print(e.errno)"],
                       capture_output=True)
        assert r.stdout == b"11\n" and r.limit_mechanisms["processes"] == "cgroup", r.json
    elif is_root():
        with pytest.raises(agentsbx.NotSupportedError) as ei:
            policy.run(["true"])
        assert ei.value.errno == 95 and ei.value.message
        policy.best_effort("rlimits")
        r = policy.run(["true"])
        assert r.returncode == 0 and "rlimits" not in r.layers
    else:
        r = policy.run([PY, "-c", "import os\ntry: os.fork()\nexcept OSError as e: print(e.errno)"],
                       capture_output=True)
        assert r.stdout == b"11\n" and "rlimits" in r.layers


def test_limits__wall_time_status_without_exception(policy):
    policy.limit(wall_time=0.3)
    t = time.monotonic()
    r = policy.run(["sleep", "30"], capture_output=True)
    assert r.status == "timed_out" and r.returncode == -signal.SIGKILL
    assert time.monotonic() - t < 5


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_limits__timeout_raises_and_kills_tree(policy):
    # Without a pid namespace, so that the pid the child prints is the host's
    # (the pid namespace's kill is tested in tests/live/test_treekill.c).
    policy.isolation("minimal").allow_tool("sleep")
    t = time.monotonic()
    with pytest.raises(agentsbx.TimeoutExpired) as ei:
        policy.run(["sh", "-c", "sleep 100 & echo $!; sleep 100"], capture_output=True, timeout=0.5)
    assert time.monotonic() - t < 5
    e = ei.value
    assert e.timeout == 0.5 and e.result.status == "timed_out" and e.result.returncode == -9
    pid = int(e.stdout.split()[0])
    deadline = time.monotonic() + 2
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _gone(pid), "the background process survived the timeout"


def test_limits__timeout_not_raised_when_child_finishes(policy):
    r = policy.run(["true"], timeout=10)
    assert r.returncode == 0


def test_limits__timeout_larger_than_policy_limit_does_not_widen_it(policy):
    policy.limit(wall_time=0.3)
    r = policy.run(["sleep", "30"], timeout=60)  # the policy's limit fires: a status, no exception
    assert r.status == "timed_out"


def test_limits__timeout_uncaptured(policy):
    with pytest.raises(agentsbx.TimeoutExpired) as ei:
        policy.run(["sleep", "30"], timeout=0.2)
    assert ei.value.result.status == "timed_out" and ei.value.stdout is None


def test_limits__unlimited_and_sizes(policy):
    policy.limit(memory=agentsbx.UNLIMITED, file_size="1G", output=1 << 20, cpu_time=agentsbx.UNLIMITED)
    assert policy.run(["true"]).returncode == 0
    assert agentsbx.parse_size("512M") == 512 << 20 and agentsbx.parse_size("64K") == 65536
    assert agentsbx.parse_size("1G") == 1 << 30 and agentsbx.parse_size("2GiB") == 2 << 30
    assert agentsbx.parse_size(123) == 123
    # one grammar with the C API, the CLI and policy files (sbx_parse_size, sbx_parse_duration)
    assert agentsbx.parse_size("256MB") == agentsbx.parse_size("256Mi") == 256 << 20
    assert agentsbx.parse_size("unlimited") == agentsbx.UNLIMITED
    for bad in ("12Q", " 1M", "1.5M", "-1", "", "1MBB"):
        with pytest.raises(ValueError):
            agentsbx.parse_size(bad)
    assert agentsbx.parse_duration("1.5s") == 1.5 and agentsbx.parse_duration("500ms") == 0.5
    assert agentsbx.parse_duration("2m") == 120 and agentsbx.parse_duration("30") == 30
    for bad in ("10 s", "1e3", "-1", "s"):
        with pytest.raises(ValueError):
            agentsbx.parse_duration(bad)
    policy.limit(wall_time="2s")
    assert policy.run(["true"]).returncode == 0


def test_limits__out_of_range_rejected_by_library(policy):
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        policy.limit(memory=1000)  # below 1 MiB
    assert ei.value.errno == 22 and "memory" in ei.value.message.lower() or ei.value.message
    with pytest.raises(ValueError):
        policy.limit(open_files=2)
