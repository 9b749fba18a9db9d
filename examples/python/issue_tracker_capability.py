#!/usr/bin/env python3
"""An agent that reads issues only through a host operation: the token stays here.

The host holds an API token and a tracker (here an in-memory stand-in for a
GitHub-style API). The agent, confined with no network and no access to the
token, calls ``fetch_issue`` over its capability channel and gets the issue's
data; the token never enters its memory, environment, files or output, and
private issues are refused by the host's own check.

    python3 examples/python/issue_tracker_capability.py
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict

try:
    import agentsbx
except ImportError:  # run from a checkout: use bindings/python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bindings", "python"))
    import agentsbx

TOKEN = "ghp_example_4f1c9a7e2b6d8035"  # the host's credential: never sent to the agent

ISSUES: Dict[int, Dict[str, Any]] = {
    7: {"title": "Crash on start", "state": "open", "private": False},
    9: {"title": "Security report", "state": "open", "private": True},
}


def tracker_get(number: int, token: str) -> Dict[str, Any]:
    """Stands in for an authenticated HTTPS request to the tracker."""
    assert token == TOKEN
    return ISSUES[number]


# What the agent runs: stdlib only, the client file on its sys.path.
AGENT = r"""
import json, os, capclient
print(json.dumps(capclient.call("fetch_issue", 7), sort_keys=True))
try:
    capclient.call("fetch_issue", 9)
except capclient.CallRefused as e:
    print("refused:", e)
print("token in environment:", any("ghp_" in v for v in os.environ.values()))
"""


def main() -> int:
    client_dir = os.path.dirname(os.path.realpath(agentsbx.__file__))
    with agentsbx.Policy() as p:
        p.allow_path(client_dir, "r")  # agentsbx/capclient.py, for the agent to import
        p.limit(wall_time=10)

        @p.capability("fetch_issue")
        def fetch_issue(number: Any) -> Dict[str, Any]:
            if not isinstance(number, int) or number not in ISSUES:
                raise agentsbx.CallFailed("no such issue")
            issue = tracker_get(number, TOKEN)
            if issue["private"]:
                raise agentsbx.CallFailed(f"issue {number} is private")
            return {"number": number, "title": issue["title"], "state": issue["state"]}

        r = p.run([sys.executable if sys.executable.startswith("/usr/") else "/usr/bin/python3",
                   "-c", f"import sys; sys.path.insert(0, {client_dir!r})\n" + AGENT],
                  capture_output=True, text=True)
    out, err = r.stdout or "", r.stderr or ""
    sys.stdout.write(out)
    sys.stderr.write(err)
    print(f"calls answered: {r.capability_calls}, refused: {r.capability_refused}")
    ok = (r.returncode == 0 and TOKEN not in out + err
          and '"title": "Crash on start"' in out and "refused: issue 9 is private" in out
          and "token in environment: False" in out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
