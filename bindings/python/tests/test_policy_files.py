"""Policy files, profiles and output settings from Python (as tests/unit/test_policy_json.c)."""

import json
import os

import pytest

import agentsbx
from conftest import PY


def test_policy_files__round_trip(policy, tmp_path):
    policy.set_env("FOO", "bar").limit(memory="256M", wall_time=2.5, output="64K")
    policy.allow_path("/usr/share", "r").allow_connect(443).deny_syscall("ptrace")
    policy.redact_patterns(False).escape_output("neutralise")
    text = policy.to_json()
    doc = json.loads(text)
    assert doc["version"] == 1
    assert doc["limits"] == {"wall": "2500ms", "memory": "256M", "output": "64K"}
    assert doc["output"] == {"redact_patterns": False, "escapes": "neutralise"}
    with agentsbx.Policy() as q:
        assert q.to_json() == '{\n  "version": 1\n}\n'
        assert q.load_json(text) is q
        assert q.to_json() == text
    f = tmp_path / "policy.json"
    f.write_text(text)
    with agentsbx.Policy() as q:
        assert q.load_file(f).to_json() == text


def test_policy_files__json_error_names_the_path(policy):
    before = policy.to_json()
    with pytest.raises(agentsbx.InvalidArgumentError) as e:
        policy.load_json('{"version": 1, "limits": {"memory": -5}}')
    assert "$.limits.memory: expected a size, got -5" in str(e.value)
    with pytest.raises(agentsbx.InvalidArgumentError) as e:
        policy.load_json('{"version": 1, "output": {"escapes": "neutralize"}}')
    assert 'expected one of "keep", "neutralise", "terminal", got "neutralize"' in str(e.value)
    assert isinstance(e.value, ValueError)
    assert policy.to_json() == before  # all or nothing


def test_policy_files__file_error_names_the_file(policy, tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"version": 1, "network": {"connect": ["80"]}}')
    with pytest.raises(agentsbx.InvalidArgumentError) as e:
        policy.load_file(f)
    assert f"{f}: $.network.connect[0]: expected a TCP port" in str(e.value)
    with pytest.raises(agentsbx.PathNotFoundError):
        policy.load_file(tmp_path / "missing.json")


def test_policy_files__profiles(policy):
    assert agentsbx.profiles() == ["minimal", "workspace", "networked"]
    policy.apply_profile("networked")
    doc = json.loads(policy.to_json())
    assert doc["workdir"] == os.getcwd()
    assert doc["network"] == {"connect": [80, 443]}
    with pytest.raises(agentsbx.InvalidArgumentError) as e:
        policy.apply_profile("maximal")
    assert "built-in profiles: minimal, workspace, networked" in str(e.value)


def test_policy_files__profile_runs(policy):
    policy.apply_profile("minimal")
    r = policy.run([PY, "-c", "print(6 * 7)"], capture_output=True, timeout=30)
    assert (r.returncode, r.stdout) == (0, b"42\n"), r.stderr


SECRET = "sk-test-0123456789-secret"


def test_policy_files__redact_registered_value(policy):
    policy.redact(SECRET).redact(b"second-secret")
    r = policy.run([PY, "-c", f"print('key={SECRET}'); print('second-secret')"],
                   capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"key=[REDACTED]\n[REDACTED]\n"
    assert r.redactions == 2
    assert r.json["redactions"] == 2
    # never written out
    assert SECRET not in policy.to_json() and "second-secret" not in policy.to_json()


def test_policy_files__redact_from_a_document(policy):
    policy.load_json(json.dumps({"version": 1, "output": {"redact": [SECRET]}}))
    assert SECRET not in policy.to_json()
    # a per-call copy (timeout, env) keeps the value the document registered
    r = policy.run([PY, "-c", f"print('{SECRET}')"], capture_output=True, timeout=30,
                   env={"X": "1"})
    assert (r.stdout, r.redactions) == (b"[REDACTED]\n", 1)
    # a failed load leaves it registered
    with pytest.raises(agentsbx.InvalidArgumentError):
        policy.load_json('{"version": 1, "output": {"redact": ["abc"]}}')
    r = policy.run([PY, "-c", f"print('{SECRET}')"], capture_output=True)
    assert (r.stdout, r.redactions) == (b"[REDACTED]\n", 1)


def test_policy_files__redact_patterns(policy):
    code = "print('AKIAIOSFODNN7EXAMPLE')"
    r = policy.run([PY, "-c", code], capture_output=True, timeout=30)
    assert (r.stdout, r.redactions) == (b"[REDACTED]\n", 1)
    r = policy.redact_patterns(False).run([PY, "-c", code], capture_output=True, timeout=30)
    assert (r.stdout, r.redactions) == (b"AKIAIOSFODNN7EXAMPLE\n", 0)


def test_policy_files__escapes_neutralised(policy):
    code = r"import sys; sys.stdout.write('a\x1b[31mred\x07b\n')"
    r = policy.run([PY, "-c", code], capture_output=True, timeout=30)
    assert (r.stdout, r.escapes) == (b"a\x1b[31mred\x07b\n", 0)
    policy.escape_output("neutralise")
    r = policy.run([PY, "-c", code], capture_output=True, timeout=30)
    assert b"\x1b" not in r.stdout and b"\x07" not in r.stdout
    assert r.stdout == b"a\\x1b[31mred\\x07b\n"
    assert r.escapes == 2
    # from a document, too
    with agentsbx.Policy() as q:
        q.load_json('{"version": 1, "output": {"escapes": "neutralise"}}')
        assert q.run([PY, "-c", code], capture_output=True, timeout=30).escapes == 2


def test_policy_files__audit_fd(policy, tmp_path):
    log = tmp_path / "audit.jsonl"
    with open(log, "ab") as f:
        policy.audit_fd(f).redact(SECRET)
        r = policy.run([PY, "-c", "pass", SECRET], capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[0]["event"] == "spawn" and events[-1]["event"] == "exit"
    assert SECRET not in log.read_text() and "[REDACTED]" in events[0]["argv"]


@pytest.mark.parametrize("call, exc", [
    (lambda p: p.redact(5), TypeError),
    (lambda p: p.redact("a\0b"), ValueError),
    (lambda p: p.escape_output(1), TypeError),
    (lambda p: p.escape_output("neutralize"), ValueError),
    (lambda p: p.load_json(None), TypeError),
    (lambda p: p.load_json("{\"version\": 1}\0"), ValueError),
    (lambda p: p.audit_fd("2"), TypeError),
])
def test_policy_files__bad_arguments(policy, call, exc):
    with pytest.raises(exc):
        call(policy)


def test_policy_files__library_rejects(policy):
    with pytest.raises(agentsbx.InvalidArgumentError) as e:
        policy.redact("abc")
    assert "3 bytes long" in str(e.value) and "abc" not in str(e.value)
    with pytest.raises(agentsbx.SandboxError):
        policy.audit_fd(987654)
