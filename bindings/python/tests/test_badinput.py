"""Bad input from Python: wrong types, None, missing and relative paths, bad sizes."""

import errno

import pytest

import agentsbx


@pytest.mark.parametrize("call", [
    lambda p: p.allow_path(None),
    lambda p: p.allow_path(42),
    lambda p: p.allow_path("/usr", access=7),
    lambda p: p.allow_tool(None),
    lambda p: p.allow_connect("80"),
    lambda p: p.allow_connect(80.0),
    lambda p: p.allow_bind(None),
    lambda p: p.set_env("A", 1),
    lambda p: p.set_env(None, "x"),
    lambda p: p.set_workdir(None),
    lambda p: p.limit(memory=1.5),
    lambda p: p.limit(memory=None, cpu_time=[10]),
    lambda p: p.limit(open_files=True),
    lambda p: p.best_effort(8),
    lambda p: p.deny_syscall("ptrace", errno="EPERM"),
    lambda p: p.on_violation(42),
    lambda p: p.run(None),
    lambda p: p.run([None]),
    lambda p: p.run(["true", 5]),
    lambda p: p.run(["cat"], input="str without text"),
    lambda p: p.run(["true"], env=["A=1"]),
    lambda p: p.run(["true"], env={"A": 1}),
    lambda p: p.run(["true"], timeout=b"1"),
    lambda p: p.spawn(["true"], stdout="pipe"),
])
def test_badinput__wrong_types_raise_type_error(policy, call):
    with pytest.raises(TypeError):
        call(policy)


@pytest.mark.parametrize("size", ["12Q", "", "M", "-1", "1.5G", "1 G B"])
def test_badinput__bad_sizes_value_error(policy, size):
    with pytest.raises(ValueError):
        policy.limit(memory=size)


@pytest.mark.parametrize("call", [
    lambda p: p.allow_path("/usr", access=""),
    lambda p: p.allow_path("/usr", access="rq"),
    lambda p: p.run([]),
    lambda p: p.run(["true"], timeout=0),
    lambda p: p.run(["true"], timeout=-1),
    lambda p: p.limit(wall_time=float("nan")),
    lambda p: p.best_effort("nope"),
    lambda p: p.set_env("A\0B", "x"),
    lambda p: p.run(["tr\0ue"]),
    lambda p: p.limit(processes=-1),
])
def test_badinput__bad_values_value_error(policy, call):
    with pytest.raises(ValueError):
        call(policy)


@pytest.mark.parametrize("call", [
    lambda p: p.allow_path("relative/path"),
    lambda p: p.set_workdir("relative"),
    lambda p: p.allow_tool("rel/tool"),
    lambda p: p.set_env("A=B", "x"),
    lambda p: p.set_env("", "x"),
    lambda p: p.allow_connect(0),
    lambda p: p.allow_connect(70000),
    lambda p: p.allow_bind(-1),
    lambda p: p.limit(cpu_time=10**12),
    lambda p: p.tmp_parent("tmp"),
])
def test_badinput__library_rejects_with_einval(policy, call):
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        call(policy)
    e = ei.value
    assert e.errno == errno.EINVAL and isinstance(e, ValueError) and isinstance(e, agentsbx.SandboxError)
    assert e.message and e.stage == "none"


def test_badinput__missing_paths_enoent(policy, tmp_path):
    for call in (lambda: policy.allow_path(tmp_path / "missing", "rw"),
                 lambda: policy.tmp_parent(tmp_path / "missing")):
        with pytest.raises(FileNotFoundError) as ei:
            call()
        assert isinstance(ei.value, agentsbx.SandboxError) and ei.value.errno == errno.ENOENT
        assert "missing" in str(ei.value) or ei.value.message


def test_badinput__closed_policy(policy):
    policy.close()
    assert policy.closed
    with pytest.raises(ValueError):
        policy.allow_path("/usr")
    with pytest.raises(ValueError):
        policy.run(["true"])


def test_badinput__failed_setter_leaves_policy_usable(policy):
    with pytest.raises(ValueError):
        policy.allow_path("rel")
    assert policy.run(["true"], env={"X": "1"}).returncode == 0


def test_badinput__error_pickles_and_prints():
    import pickle
    e = agentsbx.ProgramNotFoundError(2, "execve(x): No such file or directory", "program", "sbx_run")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is type(e) and (e2.errno, e2.message, e2.stage) == (2, e.message, "program")
    assert str(e) == "[ENOENT] execve(x): No such file or directory (stage program)"
