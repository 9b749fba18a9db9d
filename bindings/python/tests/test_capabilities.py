"""Capabilities (as tests/live/test_caps.c): none unless kept."""

import os
import subprocess

import pytest

import agentsbx
from conftest import PY

_EFF = ("import sys\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('CapEff:'): print(int(line.split()[1], 16))\n")


def test_capabilities__none_by_default(policy):
    policy.allow_path("/proc", "r")
    r = policy.run([PY, "-c", _EFF], capture_output=True)
    assert r.stdout == b"0\n", r
    assert r.capabilities["effective"] == frozenset()
    assert r.capabilities["permitted"] == frozenset()
    assert r.capabilities["ambient"] == frozenset()
    assert r.json["capabilities"]["effective"] == "0x0"
    # The control: this same probe, unconfined.
    ctl = subprocess.run([PY, "-c", _EFF], capture_output=True, check=True)
    if os.geteuid() == 0:
        assert ctl.stdout != b"0\n"


def test_capabilities__keep_one(policy):
    policy.keep_capability("net_bind_service")
    if os.geteuid() != 0:
        # Held only inside the child's own user namespace (the default isolation),
        # and not at all without one.
        r = policy.run(["true"])
        if "user" in r.namespaces:
            assert r.capabilities["effective"] == frozenset({"CAP_NET_BIND_SERVICE"})
        policy.isolation("minimal")
        with pytest.raises(agentsbx.SandboxError) as e:
            policy.run(["true"])
        assert "CAP_NET_BIND_SERVICE" in str(e.value)
        return
    policy.allow_path("/proc", "r")
    r = policy.run([PY, "-c", _EFF], capture_output=True)
    assert r.stdout == b"%d\n" % (1 << 10), r
    assert r.capabilities["effective"] == frozenset({"CAP_NET_BIND_SERVICE"})
    assert r.capabilities["bounding"] == frozenset({"CAP_NET_BIND_SERVICE"})


def test_capabilities__bad_name(policy):
    with pytest.raises(agentsbx.InvalidArgumentError, match="unknown capability 'CAP_NOPE'"):
        policy.keep_capability("CAP_NOPE")
    with pytest.raises(TypeError):
        policy.keep_capability(10)
