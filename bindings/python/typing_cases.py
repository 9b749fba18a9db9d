"""Typing cases checked by ``mypy --strict`` in the suite (check_typing.py).

Never imported or run: every ``assert_type`` is checked statically.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, assert_type



import agentsbx


def sync_cases(p: agentsbx.Policy) -> None:
    assert_type(p.run(["true"]), agentsbx.SandboxResult[bytes])
    assert_type(p.run(["true"], capture_output=True).stdout, Optional[bytes])
    assert_type(p.run(["true"], capture_output=True, text=True).stdout, Optional[str])
    assert_type(p.run(["true"], encoding="latin-1"), agentsbx.SandboxResult[str])
    assert_type(p.run(["true"], errors="strict"), agentsbx.SandboxResult[str])
    assert_type(agentsbx.run(["true"], text=True), agentsbx.SandboxResult[str])
    assert_type(agentsbx.run(["true"], input=b"x"), agentsbx.SandboxResult[bytes])
    flag: bool = bool(p)
    assert_type(p.run(["true"], text=flag), agentsbx.SandboxResult[Any])
    with agentsbx.OutputFilter(p) as f:
        assert_type(f.write(b"x") + f.finish(), bytes)
        assert_type(f.redactions, int)


async def async_cases(p: agentsbx.Policy) -> None:
    assert_type(await agentsbx.run_async(["true"], policy=p), agentsbx.SandboxResult[bytes])
    assert_type(await agentsbx.run_async(["true"], capture_output=True, text=True),
                agentsbx.SandboxResult[str])
    c = await p.spawn_async(["true"], stdout=agentsbx.PIPE)
    assert_type(c, agentsbx.AsyncChild)
    assert_type(c.stdout, Optional[asyncio.StreamReader])
    assert_type(await c.wait(), agentsbx.SandboxResult[bytes])
    assert_type(c.returncode, Optional[int])
