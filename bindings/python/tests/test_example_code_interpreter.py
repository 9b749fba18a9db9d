"""examples/python/code_interpreter.py runs in the test suite."""

import importlib.util
import os
import subprocess
import sys
import time

import pytest

from conftest import PKG_ROOT, REPO, needs_landlock

PATH = os.path.join(os.environ.get("SBX_SOURCE_DIR", REPO), "examples", "python", "code_interpreter.py")


@pytest.fixture(scope="module")
def ci():
    spec = importlib.util.spec_from_file_location("code_interpreter", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example__prints(ci):
    out = ci.run_python("print(6 * 7)")
    assert out["ok"] and out["status"] == "exited" and out["stdout"] == "42\n" and out["denied"] == []
    assert "landlock" in out["layers"] and "seccomp" in out["layers"]


def test_example__write_outside_workspace_denied(ci, tmp_path):
    needs_landlock()
    target = tmp_path / "escape"
    ws = tmp_path / "ws"
    ws.mkdir()
    code = f"open('inside', 'w').write('ok')\nopen({str(target)!r}, 'w').write('x')"
    out = ci.run_python(code, workspace=str(ws))
    # In the default view the child's /tmp is its own tmpfs: the write lands
    # there (the directories leading to the workspace are made in it) and
    # never on the host. Where the host allows no namespaces, Landlock refuses.
    if out["ok"]:
        assert out["exit_code"] == 0
    else:
        assert out["exit_code"] == 1 and "PermissionError" in out["stderr"]
    assert not target.exists() and (ws / "inside").read_text() == "ok"


def test_example__infinite_loop_killed(ci):
    t = time.monotonic()
    out = ci.run_python("while True: pass", wall_time=1.0, cpu_time=30)
    assert out["status"] == "timed_out" and out["signal"] == 9 and not out["ok"]
    assert time.monotonic() - t < 10


def test_example__cpu_limit_and_denied_syscall(ci):
    out = ci.run_python("import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0); print('after')", wall_time=10)
    assert out["stdout"] == "after\n" and out["denied"] == [{"syscall": "ptrace", "errno": 1}]
    out = ci.run_python("while True: pass", wall_time=20, cpu_time=1)
    assert out["status"] == "cpu_limit"


def test_example__no_network(ci):
    code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), 1)\n"
            "except OSError as e: print(type(e).__name__, e.errno)")
    out = ci.run_python(code)
    assert out["stdout"].startswith("PermissionError") or "13" in out["stdout"], out


def test_example__command_line():
    env = dict(os.environ, PYTHONPATH=PKG_ROOT, PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-B", PATH, "print('hi')"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and '"stdout": "hi\\n"' in r.stdout


def test_example__hidden_text_made_visible(ci):
    # "hi" in tag characters and a right-to-left override: escaped, counted, decoded
    out = ci.run_python("print('a' + chr(0xE0068) + chr(0xE0069) + 'b' + chr(0x202E) + 'c' + chr(0x200B))")
    assert out["ok"] and out["stdout"] == "a\\u{E0068}\\u{E0069}b\\u{202E}c\u200b\n"
    assert out["hidden_text"] == {"counts": {"tags": 2, "bidi": 1, "invisible": 1, "invalid_utf8": 0},
                                  "tag_text": "hi"}
