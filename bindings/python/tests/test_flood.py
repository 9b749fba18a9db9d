"""A child that floods its output under a wall-clock limit: the limit holds
however fast the child writes (issue 13, item 6)."""

import time

import pytest

import agentsbx
from conftest import PY

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


# Always something to read, on both streams, but not gigabytes a second: what
# communicate() keeps is the caller's memory, and that is not what is measured.
STEADY = ("import os, time\n"
          "while True:\n"
          "    os.write(1, b'y' * 4096)\n"
          "    os.write(2, b'e' * 4096)\n"
          "    time.sleep(0.0002)\n")


def test_communicate_flood_timeout(policy):
    child = policy.spawn([PY, "-c", STEADY], stdout=agentsbx.PIPE, stderr=agentsbx.PIPE,
                         timeout=1)
    t0 = time.monotonic()
    out, err = child.communicate()
    took = time.monotonic() - t0
    assert took < 4.0, f"communicate() took {took:.2f} s with a 1 s timeout"
    assert took >= 0.9
    assert len(out) >= 1 << 20 and out.startswith(b"yyyy") and err.startswith(b"eeee")
    assert child.result.status == "timed_out"


def test_bad_timeout(policy):
    with pytest.raises(ValueError):
        policy.spawn([YES], stdout=agentsbx.PIPE, timeout=-1)
