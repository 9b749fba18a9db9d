"""Shared fixtures of the agentsbx tests.

The package is imported from this checkout (bindings/python); the library from
AGENTSBX_LIBRARY (set by ctest) or the build tree.  Nothing is written into the
source tree: run with ``-p no:cacheprovider`` and PYTHONDONTWRITEBYTECODE=1.
"""

import os
import sys

import pytest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PKG_ROOT))
sys.path.insert(0, PKG_ROOT)

import agentsbx  # noqa: E402

#: Debian's interpreter: the child program of most tests (under /usr: readable and
#: executable as the spawned program).
PY = "/usr/bin/python3"


def pytest_sessionfinish(session, exitstatus):
    # "no tests ran" must never pass.
    if session.testscollected == 0:
        session.exitstatus = 1


@pytest.fixture
def policy():
    with agentsbx.Policy() as p:
        yield p


@pytest.fixture
def workdir(tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    return d


def needs_landlock():
    if agentsbx.landlock_abi() < 1:
        pytest.skip("kernel lacks Landlock")


def is_root():
    return os.geteuid() == 0
