"""Denied system calls show up in violations (as tests/live/test_seccomp.c)."""

import errno
import json
import signal
import threading

import pytest

import agentsbx
from conftest import PY

GETPPID = "import os; print(os.getppid())"


def test_seccomp__deny_syscall_recorded(policy):
    policy.deny_syscall("getppid", errno.EACCES)
    r = policy.run([PY, "-c", GETPPID], capture_output=True)
    assert r.returncode == 0 and r.stdout == b"-13\n"  # glibc returns the raw -errno
    assert r.violation_count == 1 and len(r.violations) == 1
    v = r.violations[0]
    assert (v.syscall, v.errno) == ("getppid", errno.EACCES) and v.nr > 0 and v.pid > 0
    assert "seccomp" in r.layers and "monitor" in r.layers
    assert r.json["violation_count"] == 1


def test_seccomp__default_deny_table(policy):
    # ptrace(PTRACE_TRACEME) is in the default deny list.
    code = "import ctypes; print(ctypes.CDLL(None, use_errno=True).ptrace(0, 0, 0, 0), ctypes.get_errno())"
    r = policy.run([PY, "-c", code], capture_output=True)
    assert r.stdout == b"-1 1\n", r.stderr
    assert [v.syscall for v in r.violations] == ["ptrace"]


def test_seccomp__kill(policy):
    policy.deny_syscall("getppid", agentsbx.KILL)
    r = policy.run([PY, "-c", GETPPID], capture_output=True)
    assert r.returncode == -signal.SIGSYS and r.status == "signaled" and r.violations == []


def test_seccomp__violation_limit_kills(policy):
    policy.deny_syscall("getppid").violation_limit(3)
    r = policy.run([PY, "-c", "import os\nfor _ in range(10): os.getppid()\nprint('end')"], capture_output=True)
    assert r.status == "violation" and r.violation_count == 3 and r.stdout == b""


def test_seccomp__violation_rate_and_kinds(policy, tmp_path):
    # 3000 denied calls as fast as Python makes them: the default rate (1000 a
    # second) kills; each call is counted under its kind.
    flood = "import os\nfor _ in range(3000): os.getppid(); os.getpgrp()\nprint('end')"
    policy.deny_syscall("getppid").deny_syscall("getpgrp", errno.EACCES)
    audit = open(tmp_path / "audit.jsonl", "wb")
    policy.audit_fd(audit).audit_limit(8192)
    r = policy.run([PY, "-c", flood], capture_output=True)
    audit.close()
    assert r.status == "violation" and r.stdout == b"" and r.json["violation_kill"] == "rate"
    assert [(v.syscall, v.errno) for v, _ in r.violation_kinds] == [
        ("getppid", errno.EPERM), ("getpgrp", errno.EACCES)]
    assert sum(n for _, n in r.violation_kinds) == r.violation_count > 1000
    assert (tmp_path / "audit.jsonl").stat().st_size < 8192 + 1024
    # what was not kept, and not written, is counted: 16 kept, 8 events a kind
    assert len(r.violations) + r.violations_dropped == r.violation_count
    assert r.violations_dropped == r.json["violations_dropped"] == r.violation_count - 16
    assert r.audit_dropped == r.json["audit_dropped"] == r.violation_count - 16
    exit_event = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert exit_event["event"] == "exit" and exit_event["audit_dropped"] == r.audit_dropped
    # the limit off: the same loop ends on its own
    policy.violation_rate(0)
    r = policy.run([PY, "-c", flood], capture_output=True)
    assert r.returncode == 0 and r.stdout == b"end\n" and r.violation_count == 6000
    with pytest.raises(agentsbx.SandboxError):
        policy.violation_rate(10**7)
    with pytest.raises(ValueError):
        policy.violation_rate(-1)
    with pytest.raises(agentsbx.SandboxError):
        policy.audit_limit(100)


def test_seccomp__violation_callback(policy):
    seen = []
    policy.deny_syscall("getppid").on_violation(lambda v: seen.append((v.syscall, threading.get_ident())))
    r = policy.run([PY, "-c", "import os; os.getppid(); os.getppid()"])
    assert r.violation_count == 2
    assert seen == [("getppid", threading.get_ident())] * 2
    policy.on_violation(None)
    policy.run([PY, "-c", GETPPID], capture_output=True)
    assert len(seen) == 2


def test_seccomp__monitor_off(policy):
    policy.deny_syscall("getppid").violation_monitor(False)
    r = policy.run([PY, "-c", GETPPID], capture_output=True)
    assert r.stdout == b"-1\n" and r.violation_count == 0


def test_seccomp__allowlist_mode(policy):
    policy.syscall_allowlist(True)
    r = policy.run([PY, "-c", "print('ok')"], capture_output=True)
    assert r.stdout == b"ok\n", r.stderr


def test_seccomp__bad_names(policy):
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        policy.deny_syscall("no_such_syscall")
    assert "no_such_syscall" in ei.value.message
    with pytest.raises(agentsbx.InvalidArgumentError):
        policy.deny_syscall("execve")
    with pytest.raises(agentsbx.InvalidArgumentError):
        policy.allow_syscall("nope_nope")
