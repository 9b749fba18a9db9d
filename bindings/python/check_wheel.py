#!/usr/bin/env python3
"""The wheel installs offline into a fresh venv and works with no other step;
so does ``pip install bindings/python`` from the checkout.

    check_wheel.py DIST_DIR SOURCE_DIR LIBRARY

Makes a fresh ``python3 -m venv`` in a temporary directory, installs the one
``agentsbx-*.whl`` of DIST_DIR with ``pip install --no-index`` (no network, no
compiler, no AGENTSBX_LIBRARY), then, from a directory outside the source
tree, runs ``import agentsbx; agentsbx.Policy().run(["true"])`` and checks
that the library used is the one inside the venv.  Then, in a second fresh
venv, ``pip install --no-index --config-settings library=LIBRARY
SOURCE_DIR/bindings/python`` (pip's isolated build, offline: the package's
backend needs nothing), and the same check.  The package's source directory
must be the same files before and after.  Exits 0 on success.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

PROBE = r'''
import os, sys, agentsbx
pkg = os.path.dirname(os.path.abspath(agentsbx.__file__))
assert pkg.startswith(sys.prefix), (pkg, sys.prefix)
assert agentsbx.library_path == os.path.join(pkg, "libagentsbx.so.0"), agentsbx.library_path
r = agentsbx.Policy().run(["true"])
assert (r.returncode, r.status) == (0, "exited"), r
r = agentsbx.run(["sh", "-c", "echo hi"], capture_output=True, text=True)
assert r.stdout == "hi\n", r
print("wheel ok:", agentsbx.__version__, agentsbx.library_path, sorted(r.layers))
'''


def tree(path):
    """Every path beneath ``path`` (to see that an install wrote nothing there)."""
    out = set()
    for root, dirs, files in os.walk(path):
        out.update(os.path.join(root, n) for n in dirs + files)
    return out


def main() -> int:
    dist, src, library = sys.argv[1], sys.argv[2], sys.argv[3]
    wheels = glob.glob(os.path.join(dist, "agentsbx-*-py3-none-linux_*.whl"))
    if len(wheels) != 1:
        print(f"FAIL: expected one wheel in {dist}, found {wheels}")
        return 1
    pkgsrc = os.path.join(src, "bindings", "python")
    left = [p for p in ("build", "dist", "agentsbx.egg-info", "agentsbx/libagentsbx.so.0")
            if os.path.exists(os.path.join(pkgsrc, p))]
    if left:
        print(f"FAIL: the build left {left} in {pkgsrc}")
        return 1
    before = tree(pkgsrc)
    tmp = tempfile.mkdtemp(prefix="agentsbx-wheel-")
    try:
        env = {k: v for k, v in os.environ.items()
               if k not in ("AGENTSBX_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
                   HOME=tmp)
        venv, venv2 = os.path.join(tmp, "venv"), os.path.join(tmp, "venv2")
        steps = [
            ["/usr/bin/python3", "-m", "venv", venv],
            [os.path.join(venv, "bin", "pip"), "install", "--no-index", "--quiet", wheels[0]],
            [os.path.join(venv, "bin", "python"), "-B", "-c", PROBE],
            ["/usr/bin/python3", "-m", "venv", venv2],
            [os.path.join(venv2, "bin", "pip"), "install", "--no-index", "--quiet",
             "--config-settings", f"library={library}", pkgsrc],
            [os.path.join(venv2, "bin", "python"), "-B", "-c", PROBE],
        ]
        for cmd in steps:
            r = subprocess.run(cmd, cwd=tmp, env=env)
            if r.returncode != 0:
                print(f"FAIL: {' '.join(cmd)} exited {r.returncode}")
                return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    after = tree(pkgsrc)
    if after != before:
        print(f"FAIL: installing changed {pkgsrc}: added {sorted(after - before)}, "
              f"removed {sorted(before - after)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
