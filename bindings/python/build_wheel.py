#!/usr/bin/env python3
"""Build the agentsbx wheel that carries libagentsbx.so.0 (run by CMake).

    build_wheel.py --library build/lib/libagentsbx.so.0 --dist DIR

Calls the package's own PEP 517 backend (_build_backend.py, the one
``pip install bindings/python`` uses) with the library of this build:
``agentsbx-<version>-py3-none-linux_<arch>.whl`` in ``--dist``, nothing
written anywhere else.  Older wheels in ``--dist`` are removed first, so
exactly one is there.
"""

import argparse
import glob
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _build_backend  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", required=True)
    ap.add_argument("--dist", required=True)
    a = ap.parse_args()
    os.makedirs(a.dist, exist_ok=True)
    for old in glob.glob(os.path.join(a.dist, "agentsbx-*.whl")):
        os.unlink(old)
    name = _build_backend.build_wheel(a.dist, {"library": a.library})
    if "-py3-none-linux_" not in name:
        print(f"build_wheel.py: {name} does not carry the library", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
