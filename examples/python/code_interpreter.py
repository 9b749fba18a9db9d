#!/usr/bin/env python3
"""A code-interpreter tool an agent framework can register.

``run_python(code)`` runs a model-written Python snippet confined by
libagentsbx: no network, a scratch workspace directory (the only place it can
write, besides a private TMPDIR), CPU, memory and wall-clock limits, and only
the interpreter may be executed.  It returns a JSON-able dict with stdout,
stderr, the exit status and what was denied (the system calls the violation
monitor saw, and the status when a limit killed it).

    python3 examples/python/code_interpreter.py 'print(6 * 7)'
    echo 'open("/etc/x", "w")' | python3 examples/python/code_interpreter.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional

try:
    import agentsbx
except ImportError:  # run from a checkout: use bindings/python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bindings", "python"))
    import agentsbx

#: The tool's description, in the JSON-schema shape most agent frameworks take.
TOOL_SPEC: Dict[str, Any] = {
    "name": "run_python",
    "description": "Run a Python 3 snippet in a sandbox with no network access. Files can be "
                   "written only in the current directory (a scratch workspace). Returns stdout, "
                   "stderr, the exit status and anything the sandbox denied.",
    "parameters": {
        "type": "object",
        "properties": {"code": {"type": "string", "description": "Python 3 source to run"}},
        "required": ["code"],
    },
}

PYTHON = "/usr/bin/python3"


def run_python(code: str, *, workspace: Optional[str] = None, wall_time: float = 10.0,
               cpu_time: int = 5, memory: str = "512M", max_output: str = "64K") -> Dict[str, Any]:
    """Run ``code`` confined and report what happened.

    :param workspace: the scratch directory (created and removed when None).
    :returns: ``{"ok", "status", "exit_code", "signal", "stdout", "stderr",
        "stdout_truncated", "denied", "wall_time", "layers", "hidden_text"}``;
        ``hidden_text`` counts the characters that hide text from a reader (by
        Unicode class) and gives what tag characters spelled; ``denied`` lists
        denied system calls, and ``status`` says if a limit killed the snippet
        ("timed_out", "cpu_limit", "file_size_limit", ...).  A sandbox that
        cannot be set up raises :class:`agentsbx.SandboxError`.
    """
    scratch = workspace or tempfile.mkdtemp(prefix="code-interpreter-")
    try:
        with agentsbx.Policy() as policy:
            (policy.set_workdir(scratch)
                   .limit(wall_time=wall_time, cpu_time=cpu_time, memory=memory,
                          file_size="64M", open_files=256, output=max_output))
            # No allow_network()/allow_connect(): TCP is denied by Landlock, other
            # socket families by seccomp. Only the interpreter can be executed.
            # Text a model would read but a person would not see (instructions in
            # tag characters, reordered by bidi controls) is made visible; the
            # rest of the invisible characters are kept, and all are counted.
            policy.output(unicode={"tags": "escape", "bidi": "escape", "invisible": "keep"})
            r = policy.run([PYTHON, "-I", "-B", "-c", code], capture_output=True, text=True)
        return {
            "ok": r.returncode == 0,
            "status": r.status,
            "exit_code": r.exit_code,
            "signal": r.signal,
            "stdout": r.stdout,
            "stderr": r.stderr,
            "stdout_truncated": r.stdout_truncated or r.stderr_truncated,
            "denied": [{"syscall": v.syscall, "errno": v.errno} for v in r.violations],
            "wall_time": round(r.wall_time, 3),
            "layers": sorted(r.layers),
            "hidden_text": {"counts": r.unicode, "tag_text": r.unicode_tag_text},
        }
    finally:
        if workspace is None:
            shutil.rmtree(scratch, ignore_errors=True)


def main(argv: List[str]) -> int:
    code = argv[1] if len(argv) > 1 else sys.stdin.read()
    out = run_python(code)
    print(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
