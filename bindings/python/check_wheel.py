#!/usr/bin/env python3
"""The wheel installs offline into a fresh venv and works with no other step.

    check_wheel.py DIST_DIR SOURCE_DIR

Makes a fresh ``python3 -m venv`` in a temporary directory, installs the one
``agentsbx-*.whl`` of DIST_DIR with ``pip install --no-index`` (no network, no
compiler, no AGENTSBX_LIBRARY), then, from a directory outside the source
tree, runs ``import agentsbx; agentsbx.Policy().run(["true"])`` and checks
that the library used is the one inside the venv.  Also checks that the build
left nothing in the package's source directory.  Exits 0 on success.
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


def main() -> int:
    dist, src = sys.argv[1], sys.argv[2]
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
    tmp = tempfile.mkdtemp(prefix="agentsbx-wheel-")
    try:
        env = {k: v for k, v in os.environ.items()
               if k not in ("AGENTSBX_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
                   HOME=tmp)
        venv = os.path.join(tmp, "venv")
        steps = [
            ["/usr/bin/python3", "-m", "venv", venv],
            [os.path.join(venv, "bin", "pip"), "install", "--no-index", "--quiet", wheels[0]],
            [os.path.join(venv, "bin", "python"), "-B", "-c", PROBE],
        ]
        for cmd in steps:
            r = subprocess.run(cmd, cwd=tmp, env=env)
            if r.returncode != 0:
                print(f"FAIL: {' '.join(cmd)} exited {r.returncode}")
                return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
