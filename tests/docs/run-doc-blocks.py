#!/usr/bin/env python3
"""Run the code blocks of README.md and docs/*.md that are marked runnable.

  run-doc-blocks.py SOURCE_DIR AGENTSBX_CLI LIBAGENTSBX_SO [FILE...]

A block is runnable when the line before its opening fence is an HTML comment
(invisible once rendered):

  <!-- runnable -->
  <!-- runnable: SETUP -->     SETUP is a shell command run first, in the same
                              directory (it makes the files the block names)

Fences: ```sh (run with bash -e), ```python (python3), ```c (compiled with cc
against the library and run). Each block runs in a fresh temporary directory
(its working directory, removed after), with the CLI first in PATH as
`agentsbx`, the library in AGENTSBX_LIBRARY and the Python bindings on
PYTHONPATH, for at most 60 seconds. A block passes when it exits 0. Every
failure is printed with its file and line; the exit status is 1 if any failed,
77 (skip) if none is marked. For a sanitized build, SBX_DOC_CFLAGS adds compiler
flags and SBX_DOC_PYTHON_PRELOAD is the LD_PRELOAD of the Python runs.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w+)\s*$")
MARK = re.compile(r"^<!--\s*runnable(?::\s*(.*?))?\s*-->\s*$")


def blocks(path):
    """Yield (line, language, setup, code) for each runnable block of a file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        mark = MARK.match(lines[i])
        fence = FENCE.match(lines[i + 1]) if mark and i + 1 < len(lines) else None
        if not fence:
            i += 1
            continue
        start = i + 2
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise SystemExit(f"{path}:{i + 2}: a runnable block without its closing fence")
        yield i + 2, fence.group(1), mark.group(1) or "", "\n".join(lines[start:end]) + "\n"
        i = end + 1


def run_block(src, cli, lib, lang, setup, code, work):
    env = dict(os.environ)
    bindir = os.path.join(work, ".bin")
    os.mkdir(bindir)
    os.symlink(cli, os.path.join(bindir, "agentsbx"))
    env["PATH"] = bindir + ":" + env.get("PATH", "/usr/bin:/bin")
    env["AGENTSBX_LIBRARY"] = lib
    env["PYTHONPATH"] = os.path.join(src, "bindings", "python")
    if setup:
        subprocess.run(["bash", "-ec", setup], cwd=work, env=env, check=True, timeout=60,
                       capture_output=True)
    if lang == "sh":
        cmd = ["bash", "-ec", code]
    elif lang == "python":
        cmd = [sys.executable, "-c", code]
        if os.environ.get("SBX_DOC_PYTHON_PRELOAD"):  # a sanitized library (CMakeLists.txt)
            env["LD_PRELOAD"] = os.environ["SBX_DOC_PYTHON_PRELOAD"]
            env["ASAN_OPTIONS"] = "detect_leaks=0"
    elif lang == "c":
        with open(os.path.join(work, "block.c"), "w", encoding="utf-8") as f:
            f.write(code)
        libdir = os.path.dirname(lib)
        extra = os.environ.get("SBX_DOC_CFLAGS", "").split()
        subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", *extra, "-I", os.path.join(src, "include"),
                        "-I", os.path.join(os.path.dirname(libdir), "include"),
                        "block.c", "-o", "block", "-L", libdir, "-l:" + os.path.basename(lib),
                        "-Wl,-rpath," + libdir],
                       cwd=work, env=env, check=True, timeout=60, capture_output=True, text=True)
        cmd = ["./block"]
    else:
        raise ValueError(f"no runner for ```{lang}")
    return subprocess.run(cmd, cwd=work, env=env, timeout=60, capture_output=True, text=True)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    src, cli, lib = (os.path.abspath(a) for a in sys.argv[1:4])
    files = sys.argv[4:] or [os.path.join(src, "README.md")] + sorted(
        os.path.join(src, "docs", n) for n in os.listdir(os.path.join(src, "docs"))
        if n.endswith(".md")) + [os.path.join(src, "bindings", "python", "README.md")]
    ran = failed = 0
    for path in files:
        if not os.path.exists(path):
            continue
        rel = os.path.relpath(path, src)
        for line, lang, setup, code in blocks(path):
            ran += 1
            work = tempfile.mkdtemp(prefix="sbx-docblock-")
            try:
                r = run_block(src, cli, lib, lang, setup, code, work)
                ok, why = r.returncode == 0, f"exit {r.returncode}\n{r.stdout}{r.stderr}"
            except subprocess.CalledProcessError as e:
                ok, why = False, f"setup or build failed ({e.cmd[0]}): {e.stdout or ''}{e.stderr or ''}"
            except (subprocess.TimeoutExpired, ValueError, OSError) as e:
                ok, why = False, str(e)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(f"{'ok  ' if ok else 'FAIL'} {rel}:{line} ```{lang}")
            if not ok:
                failed += 1
                print("     " + why.strip().replace("\n", "\n     "))
    if ran == 0:
        print("SKIP: no block is marked runnable")
        return 77
    print(f"{ran - failed}/{ran} runnable blocks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
