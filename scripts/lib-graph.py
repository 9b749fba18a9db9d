#!/usr/bin/env python3
"""The file-level call graph of lib/, from the objects' symbol tables (nm).

  lib-graph.py OBJDIR            print the graph's cycles and its layering
  lib-graph.py OBJDIR --check    exit 1 if a rule of docs/architecture.md is broken

A file A calls a file B when A's object has an undefined symbol that B's
object defines. The rules: lib/util/ calls nothing of the library; a layer
calls no core file and no other layer, except through the interfaces listed
in ALLOWED below; no cycle spans more than one group.
"""
import os
import subprocess
import sys
from collections import defaultdict

# The groups, by source file (without .c). Files not listed are core.
UTIL = {"util/time", "util/utf8", "util/sha256", "util/units", "util/error", "util/json",
        "pathwalk", "util/program"}
LAYERS = {
    "landlock": {"landlock"},
    "tmp": {"tmpdir"},
    "seccomp": {"seccomp", "seccomp_filter", "monitor", "diagnose"},
    "namespaces": {"namespace", "view", "init_blob"},
    "cgroup": {"cgroup"},
    "caps": {"caps"},
    "output": {"outfilter", "outfilter_patterns", "outfilter_engine", "audit"},
    "egress": {"egress", "broker", "broker_http", "broker_socks", "broker_dns", "broker_relay",
               "broker_parse"},
}
# Calls across groups that are part of a layer's interface to another (see
# docs/architecture.md), as (from group, to group).
ALLOWED = set()


def group_of(f):
    if f in UTIL or f.startswith("util/"):
        return "util"
    for g, files in LAYERS.items():
        if f in files:
            return g
    return "core"


def objects(objdir):
    out = {}
    for root, _, files in os.walk(objdir):
        for name in files:
            if name.endswith(".c.o"):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, objdir)[:-4]
                out[rel] = path
    return out


def symbols(path):
    text = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRV":
            defined.add(parts[2])
    return defined, undefined


def graph(objdir):
    objs = objects(objdir)
    definer, undefs = {}, {}
    for f, path in objs.items():
        d, u = symbols(path)
        for s in d:
            definer[s] = f
        undefs[f] = u
    edges = defaultdict(set)
    for f, u in undefs.items():
        for s in u:
            g = definer.get(s)
            if g and g != f:
                edges[f].add((g, s))
    return objs, edges


def sccs(nodes, edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w, _ in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    objdir, check = sys.argv[1], "--check" in sys.argv[2:]
    objs, edges = graph(objdir)
    problems = []
    for f in sorted(edges):
        gf = group_of(f)
        for g, s in sorted(edges[f]):
            gg = group_of(g)
            if gf == gg:
                continue
            if gf == "util":
                problems.append(f"util file {f} calls {g} ({s})")
            elif gf != "core" and gg != "util" and (gf, gg) not in ALLOWED:
                problems.append(f"layer file {f} ({gf}) calls {g} ({gg}): {s}")
    for comp in sccs(objs, edges):
        groups = {group_of(f) for f in comp}
        if len(comp) > 1:
            print(f"cycle ({', '.join(sorted(groups))}): {' '.join(comp)}")
            if len(groups) > 1:
                problems.append(f"a cycle spans {sorted(groups)}: {comp}")
    for p in problems:
        print("PROBLEM:", p)
    print(f"{len(objs)} files, {sum(len(e) for e in edges.values())} calls across files, "
          f"{len(problems)} problems")
    return 1 if check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
