"""A child that floods its output under a wall-clock limit: the limit holds
however fast the child writes (issue 13, item 6)."""

import time

import pytest

import agentsbx

YES = "/usr/bin/yes"


def test_run_capture_flood_timeout(policy):
    t0 = time.monotonic()
    with pytest.raises(agentsbx.TimeoutExpired) as info:
        policy.run([YES], timeout=1, capture_output=True)
    took = time.monotonic() - t0
    assert took < 4.0, f"run() took {took:.2f} s with a 1 s timeout"
    # the control: it really flooded (and ran until the limit)
    assert took >= 0.95
    out = info.value.stdout
    assert len(out) >= 1 << 20 and out.startswith(b"y\ny\n")
    assert info.value.result.status == "timed_out"


def test_communicate_flood_timeout(policy):
    child = policy.spawn([YES], stdout=agentsbx.PIPE, stderr=agentsbx.PIPE, timeout=1)
    t0 = time.monotonic()
    out, err = child.communicate()
    took = time.monotonic() - t0
    assert took < 4.0, f"communicate() took {took:.2f} s with a 1 s timeout"
    assert took >= 0.95
    assert len(out) >= 1 << 20 and out.startswith(b"y\ny\n") and err == b""
    assert child.result.status == "timed_out"


def test_bad_timeout(policy):
    with pytest.raises(ValueError):
        policy.spawn([YES], stdout=agentsbx.PIPE, timeout=-1)
