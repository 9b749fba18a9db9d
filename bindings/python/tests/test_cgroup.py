"""The cgroup CPU rate (sbx_limit_cpu_rate), as tests/live/test_cgroup.c."""

import pytest

import agentsbx
from conftest import PY

# Two processes spinning for 1 s of wall time; the parent reaps the other, so
# the result's CPU time counts both.
BURN = """
import os, time
end = time.monotonic() + 1.0
pid = os.fork()
while time.monotonic() < end:
    pass
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("burned")
"""


def test_cgroup__cpu_rate_bad_values(policy):
    with pytest.raises(ValueError):
        policy.limit_cpu_rate(0)
    with pytest.raises(ValueError):
        policy.limit_cpu_rate(-1.5)
    with pytest.raises(ValueError):
        policy.limit_cpu_rate(float("nan"))
    with pytest.raises(TypeError):
        policy.limit_cpu_rate("0.5")
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        policy.limit_cpu_rate(0.005)  # 5 millicpus: below the least, 10
    assert ei.value.errno == 22 and "sbx_limit_cpu_rate" in ei.value.message
    assert "out of range" in ei.value.message
    policy.limit_cpu_rate(agentsbx.UNLIMITED)
    assert policy.run(["true"]).returncode == 0


def test_cgroup__cpu_rate_needs_the_layer(policy):
    policy.limit_cpu_rate(0.5)
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        policy.run(["true"])
    assert "CPU rate limit: it needs the cgroup layer" in ei.value.message
    policy.best_effort("cgroup")
    r = policy.run(["true"])
    assert r.returncode == 0 and r.limit_mechanisms["cpu_rate"] == "none"
    assert "cgroup" not in r.layers


def test_cgroup__cpu_rate_throttles_all_processes(policy):
    feature = agentsbx.probe()["cgroup"]
    if not feature.available:
        pytest.skip(f"no usable cgroup beneath our own: {feature.reason}")
    policy.use_cgroup().limit_cpu_rate(0.2)
    try:
        r = policy.run([PY, "-c", BURN], capture_output=True)
    except agentsbx.NotSupportedError as e:
        if "no writable cpu controller" not in e.message:
            raise
        pytest.skip(f"no writable cpu controller: {e.message}")
    assert r.returncode == 0 and r.stdout == b"burned\n", r.stderr
    assert r.limit_mechanisms["cpu_rate"] == "cgroup" and "cgroup" in r.layers
    assert r.cpu_time <= 0.35, r
