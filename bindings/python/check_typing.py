#!/usr/bin/env python3
"""``mypy --strict`` over the package, the examples and typing_cases.py (must pass),
and over a wrong program (must fail, with the errors expected): run by the suite.

    check_typing.py SOURCE_DIR

Exits 77 (skipped) when Debian's python3-mypy is not installed.  Writes no cache.
"""

import glob
import os
import subprocess
import sys
import tempfile

BAD = '''
import agentsbx
r = agentsbx.run(["true"], capture_output=True, text=True)
assert r.stdout is not None
r.stdout.decode()
b = agentsbx.Policy().run(["true"], capture_output=True)
assert b.stdout is not None
b.stdout.upper() + "x"
'''
EXPECTED = ['"str" has no attribute "decode"',
            'Unsupported operand types for + ("bytes" and "str")']


def run_mypy(paths, cwd):
    env = dict(os.environ, MYPYPATH=os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir=/dev/null",
                           "--no-error-summary", *paths], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main() -> int:
    src = sys.argv[1]
    try:
        import mypy.api  # noqa: F401
    except ImportError:
        print("SKIP: mypy is not installed (apt-get install python3-mypy)")
        return 77
    pkg = os.path.join(src, "bindings", "python")
    good = [os.path.join(pkg, "agentsbx"), os.path.join(pkg, "typing_cases.py"),
            os.path.join(pkg, "_build_backend.py"),
            *sorted(glob.glob(os.path.join(src, "examples", "python", "*.py")))]
    r = run_mypy(good, pkg)
    print(r.stdout, end="")
    if r.returncode != 0:
        print(f"FAIL: mypy --strict found errors in {good}")
        return 1
    with tempfile.TemporaryDirectory(prefix="agentsbx-typing-") as tmp:
        bad = os.path.join(tmp, "bad.py")
        with open(bad, "w") as f:
            f.write(BAD)
        r = run_mypy([bad], tmp)
    missing = [e for e in EXPECTED if e not in r.stdout]
    if r.returncode == 0 or missing:
        print(r.stdout, end="")
        print(f"FAIL: mypy did not report {missing} in a wrong program (exit {r.returncode})")
        return 1
    print(f"typing ok: {len(good)} paths clean under mypy --strict; a wrong program rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
