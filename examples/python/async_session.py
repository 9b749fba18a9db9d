#!/usr/bin/env python3
"""Two ways an asyncio agent runs model-written code, confined.

``run_async`` for one-shot commands (as ``asyncio.create_subprocess_exec``,
with the output captured and secrets redacted), and a :class:`agentsbx.Session`
for a notebook-like interpreter that keeps its variables between cells (run
in an executor: a cell blocks until it ends).

    python3 examples/python/async_session.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import List

try:
    import agentsbx
except ImportError:  # run from a checkout: use bindings/python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bindings", "python"))
    import agentsbx


async def main() -> int:
    with agentsbx.Policy() as policy:
        policy.limit(memory="512M", cpu_time=10).redact("sk-example-0123456789")
        # Three commands at once; their output is filtered before we see it.
        results = await asyncio.gather(*(
            agentsbx.run_async(["sh", "-c", f"echo job {i} key=sk-example-0123456789"], policy=policy,
                               capture_output=True, text=True, timeout=10)
            for i in range(3)))
        for r in results:
            print(r.status, r.stdout, end="")

        loop = asyncio.get_running_loop()
        with agentsbx.Session(policy, timeout=1, output_limit="64K") as session:
            cells: List[str] = ["import math\nradius = 2", "area = math.pi * radius ** 2\nround(area, 3)",
                                "while True: pass"]
            for code in cells:
                cell = await loop.run_in_executor(None, session.run, code)
                print(f"[{cell.status}] value={cell.value} restarted={cell.restarted}")
            after = await loop.run_in_executor(None, session.run, "radius")
            print(f"[{after.status}] radius={after.value}")  # kept: the timeout only interrupted the loop
            return 0 if after.value == "2" and all(r.returncode == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
