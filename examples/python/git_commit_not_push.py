#!/usr/bin/env python3
"""A git the agent may commit with, but not push or reconfigure.

``allow_tool_args`` keeps the real git out of the agent's reach: a shim named
``git`` on its PATH sends each command to this process, which checks the
arguments on its own copy and runs the real git, confined by the same policy,
on the agent's streams. ``git push`` and ``git -c core.hooksPath=...`` are
refused with a message, and counted in the result.

    python3 examples/python/git_commit_not_push.py [REPO-DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

try:
    import agentsbx
except ImportError:  # run from a checkout: use bindings/python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bindings", "python"))
    import agentsbx

AGENT = """
echo 'print("hello")' > hello.py
git add hello.py && git commit -q -m "add hello" && echo committed
git push origin main || echo "push refused"
git -c core.hooksPath=/tmp/evil commit --allow-empty -m x || echo "config override refused"
git log --format=%s
"""


def main() -> int:
    repo = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="agentsbx-example-")
    subprocess.run("git init -q -b main . && git config user.email agent@example.com && "
                   "git config user.name Agent && git commit -q --allow-empty -m start",
                   shell=True, cwd=repo, check=True)
    with agentsbx.Policy() as p:
        p.set_workdir(repo)
        p.allow_path(repo, "rw")
        p.limit(wall_time=30)
        p.allow_tool_args("git", ["status *", "diff *", "log *", "add *", "commit -q -m *",
                                  "commit -m *"],
                          ["-c", "--exec-path", "core.hooksPath"])
        r = p.run(["/bin/sh", "-c", AGENT], capture_output=True, text=True)
    out, err = r.stdout or "", r.stderr or ""
    sys.stdout.write(out)
    sys.stderr.write(err)
    print("denied:", r.tool_denials)
    ok = (r.returncode == 0 and "committed" in out and "push refused" in out
          and "config override refused" in out and r.tool_denial_count == 2)
    if len(sys.argv) == 1:
        subprocess.run(["rm", "-rf", repo], check=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
