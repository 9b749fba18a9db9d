"""examples/python/issue_tracker_capability.py and git_commit_not_push.py run in the suite."""

import os
import subprocess
import sys

import pytest

from conftest import PKG_ROOT, REPO

EXAMPLES = os.path.join(os.environ.get("SBX_SOURCE_DIR", REPO), "examples", "python")


def _run(name, *args):
    env = dict(os.environ, PYTHONPATH=PKG_ROOT, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_example__issue_tracker_token_stays_in_host():
    r = _run("issue_tracker_capability.py")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert '"title": "Crash on start"' in r.stdout and "refused: issue 9 is private" in r.stdout
    assert "ghp_" not in r.stdout + r.stderr
    assert "calls answered: 2, refused: 0" in r.stdout


def test_example__git_commit_not_push(tmp_path):
    if not os.access("/usr/bin/git", os.X_OK):
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    r = _run("git_commit_not_push.py", str(repo))
    os.system(f"chmod -R a+rwX {tmp_path}")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "committed\npush refused\nconfig override refused\nadd hello\nstart\n" in r.stdout
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True)
    assert log.stdout == "add hello\nstart\n"  # the real git committed in the host's repository
