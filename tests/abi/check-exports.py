#!/usr/bin/python3
"""test_abi__exports_match_version_script

Every symbol libagentsbx.so exports (nm -D --defined-only) is listed in
lib/libagentsbx.map, carries a version node of that script, and is declared
with SBX_API in a public header; and every symbol of the script is exported.
(That the script equals the Python binding's table FUNCTIONS is checked by
bindings/python/tests/test_table.py, test_table__equals_version_script.)

Usage: check-exports.py LIBAGENTSBX_SO VERSION_SCRIPT INCLUDE_DIR
"""
import glob
import os
import re
import subprocess
import sys


def script_nodes(path):
    """{node: set of global symbols} of a linker version script."""
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    nodes = {}
    for node, body in re.findall(r"([A-Za-z_][\w.]*)\s*\{(.*?)\}", text, flags=re.S):
        glob_part = re.search(r"global:(.*?)(?:local:|$)", body, flags=re.S)
        syms = set()
        if glob_part:
            syms = {s.strip() for s in glob_part.group(1).split(";") if s.strip()}
        nodes[node] = syms
    return nodes


def exported(lib):
    """{symbol: version} of the dynamic symbols the library defines."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2]
        if kind == "A":  # the version node itself (AGENTSBX_0.1)
            continue
        name, _, version = name.partition("@")
        syms[name] = version.lstrip("@")
    return syms


def declared(include_dir):
    names = set()
    for h in glob.glob(os.path.join(include_dir, "agentsbx", "*.h")):
        text = re.sub(r"/\*.*?\*/", "", open(h).read(), flags=re.S)
        names.update(re.findall(r"SBX_API\b[^;{]*?\b(sbx_\w+)\s*\(", text))
    return names


def main():
    lib, script, include_dir = sys.argv[1:4]
    nodes = script_nodes(script)
    listed = set().union(*nodes.values()) if nodes else set()
    syms = exported(lib)
    headers = declared(include_dir)
    errors = []
    if not nodes or len(listed) < 50:
        errors.append(f"{script}: found {len(listed)} symbols in {len(nodes)} nodes")
    for name in sorted(set(syms) - listed):
        errors.append(f"exported but not in {os.path.basename(script)}: {name}")
    for name in sorted(listed - set(syms)):
        errors.append(f"in {os.path.basename(script)} but not exported: {name}")
    for name, version in sorted(syms.items()):
        if version not in nodes:
            errors.append(f"{name} has version '{version}', not a node of the script {sorted(nodes)}")
        elif name not in nodes[version]:
            errors.append(f"{name} is exported at {version} but the script lists it elsewhere")
    for name in sorted(set(syms) - headers):
        errors.append(f"exported but declared with SBX_API in no public header: {name}")
    for name in sorted(headers - set(syms)):
        errors.append(f"declared SBX_API in a public header but not exported: {name}")
    for e in errors:
        print("exports: FAIL:", e, file=sys.stderr)
    if errors:
        return 1
    print(f"exports: {len(syms)} symbols, all in {sorted(nodes)} and in the public headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
