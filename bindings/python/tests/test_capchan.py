"""Host operations through Python (as tests/live/test_capchan.c): a handler in this
process, the child calling it with the stdlib-only client (agentsbx/capclient.py)."""

import os
import sys

import agentsbx
from conftest import PKG_ROOT, PY

CLIENT = os.path.join(PKG_ROOT, "agentsbx", "capclient.py")
TOKEN = "tok-5d1e2c3b4a-SECRET"


def _policy():
    p = agentsbx.Policy()
    p.allow_path(os.path.dirname(CLIENT), "r")
    return p


def _child(code):
    # the client is imported by path: the child does not load libagentsbx
    return [PY, "-c", f"import sys; sys.path.insert(0, {os.path.dirname(CLIENT)!r}); " + code]


def test_capchan__python_handler_round_trip():
    seen = []
    with _policy() as p:
        # the control: no operation granted, no channel
        r = p.run(_child("import capclient\n"
                         "try: capclient.call('fetch_issue', 7)\n"
                         "except capclient.ChannelError as e: print('no channel')"),
                  capture_output=True)
        assert r.stdout == b"no channel\n", r

        @p.capability("fetch_issue")
        def fetch_issue(args):
            seen.append(args)
            assert TOKEN  # the host holds the token; the child only gets data
            if args == 9:
                raise agentsbx.CallFailed("issue 9 is private")
            return {"number": args, "title": "Crash on start"}

        r = p.run(_child("import capclient, json, os\n"
                         "print(json.dumps(capclient.call('fetch_issue', 7), sort_keys=True))\n"
                         "try: capclient.call('fetch_issue', 9)\n"
                         "except capclient.CallRefused as e: print(e.code, e)\n"
                         "try: capclient.call('delete_repo', {})\n"
                         "except capclient.CallRefused as e: print(e.code)\n"
                         f"print({TOKEN!r} in json.dumps(dict(os.environ)))"),
                  capture_output=True)
        assert r.returncode == 0, r
        assert r.stdout.decode().splitlines() == [
            '{"number": 7, "title": "Crash on start"}', "failed issue 9 is private", "unknown_op",
            "False"], r
        assert seen == [7, 9]
        assert r.capability_calls == 2 and r.capability_refused == 1


def test_capchan__handler_exception_stays_in_host(capfd):
    with _policy() as p:
        @p.capability("boom")
        def boom(args):
            raise RuntimeError("/home/alice/.secrets is missing")

        r = p.run(_child("import capclient\n"
                         "try: capclient.call('boom')\n"
                         "except capclient.CallRefused as e: print(e.code, e)"),
                  capture_output=True)
        assert r.stdout == b"failed the operation failed\n", r
        assert b"alice" not in r.stdout
        assert "RuntimeError" in capfd.readouterr().err  # printed in the host


def test_capchan__budget_and_bad_input():
    with _policy() as p:
        p.capability("echo")(lambda a: a)
        p.limit_capability_calls(2)
        r = p.run(_child("import capclient\n"
                         "for i in range(3):\n"
                         "    try: print(capclient.call('echo', [i]))\n"
                         "    except capclient.CallRefused as e: print(e.code)"),
                  capture_output=True)
        assert r.stdout == b"[0]\n[1]\nbudget\n", r
        try:
            p.capability("echo")(lambda a: a)
        except agentsbx.SandboxError as e:
            assert "already" in str(e)
        else:
            raise AssertionError("a second 'echo' was accepted")
        for bad in ("", "rm -rf", "x" * 65):
            try:
                p.capability(bad)(lambda a: a)
            except agentsbx.InvalidArgumentError:
                pass
            else:
                raise AssertionError(f"name {bad!r} was accepted")
        try:
            p.limit_capability_request(10)
        except agentsbx.InvalidArgumentError as e:
            assert "out of range" in str(e)
        else:
            raise AssertionError("a 10-byte request limit was accepted")


def test_capchan__tool_args_git(tmp_path):
    if not os.access("/usr/bin/git", os.X_OK):
        import pytest
        pytest.skip("git is not installed")
    import subprocess
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run("git init -q -b main . && git config user.email t@example.com && "
                   "git config user.name T && echo a > a && git add a && git commit -qm first",
                   shell=True, cwd=repo, check=True)
    os.system(f"chmod -R a+rwX {tmp_path}")
    with agentsbx.Policy() as p:
        p.allow_path(str(repo), "rw")
        p.allow_tool_args("git", ["status *", "add *", "commit -m *"], ["-c", "core.hooksPath"])
        r = p.run(["/bin/sh", "-c", "git status >/dev/null; echo rc=$?; git push; echo rc=$?; "
                   "git -c core.hooksPath=/x status; echo rc=$?"],
                  cwd=str(repo), capture_output=True)
        assert r.stdout == b"rc=0\nrc=126\nrc=126\n", r
        assert r.tool_denial_count == 2
        assert r.tool_denials[0] == "git push: not allowed by the argument rules"
        assert "denied (-c)" in r.tool_denials[1]
        try:
            p.allow_tool_args("git", [])
        except agentsbx.InvalidArgumentError as e:
            assert "allow has no pattern" in str(e)
        else:
            raise AssertionError("empty allow accepted")
