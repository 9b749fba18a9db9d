"""The ctypes table covers exactly the exported symbols; import-time checks."""

import ctypes
import os
import re
import shutil
import subprocess
import sys

import pytest

import agentsbx
from agentsbx import _native
from conftest import PKG_ROOT, REPO


def map_symbols():
    src = os.environ.get("SBX_SOURCE_DIR", REPO)
    text = open(os.path.join(src, "lib", "libagentsbx.map")).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    syms = set()
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        syms.update(s.strip() for s in block.split(";") if s.strip())
    return syms


def test_table__equals_version_script():
    names = [row[0] for row in _native.FUNCTIONS]
    assert len(names) == len(set(names)), "a function is declared twice"
    syms = map_symbols()
    assert len(syms) > 50
    assert set(names) == syms, (sorted(syms - set(names)), sorted(set(names) - syms))


def c_prototypes():
    """name -> (return type, [parameter types]) from the public headers' SBX_API lines."""
    src = os.environ.get("SBX_SOURCE_DIR", REPO)
    inc = os.path.join(src, "include", "agentsbx")
    protos = {}
    for h in sorted(os.listdir(inc)):
        if not h.endswith(".h"):
            continue
        text = re.sub(r"/\*.*?\*/", "", open(os.path.join(inc, h)).read(), flags=re.S)
        for m in re.finditer(r"SBX_API\s+(?:SBX_WUR\s+)?([^;()]*?)\b(sbx_\w+)\s*\(([^;]*?)\)\s*;",
                             text, flags=re.S):
            ret, name, params = " ".join(m.group(1).split()), m.group(2), m.group(3)
            plist = [] if params.strip() in ("", "void") else [
                " ".join(re.sub(r"\b\w+$", "", p.strip()).split()) if not p.strip().endswith("*")
                else " ".join(p.split()) for p in params.split(",")]
            protos[name] = (ret, plist)
    return protos


# C scalar types and the ctypes type of the same size and signedness.
_SCALARS = {"int": ctypes.c_int, "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64,
            "int64_t": ctypes.c_int64, "size_t": ctypes.c_size_t, "pid_t": ctypes.c_int}
_CALLBACKS = {"sbx_violation_fn": "VIOLATION_FN", "sbx_output_fn": "OUTPUT_FN",
              "sbx_audit_fn": "AUDIT_FN", "sbx_capability_fn": "CAPABILITY_FN"}


def _compatible(ctype, ct):
    """Whether the ctypes type ct can stand for the C type ctype."""
    ctype = ctype.replace("const ", "").strip()
    if ctype in _CALLBACKS:
        return ct is getattr(_native, _CALLBACKS[ctype])
    if ctype == "void":
        return ct is None
    if ctype in _SCALARS:
        want = _SCALARS[ctype]
        return ct is not None and ctypes.sizeof(ct) == ctypes.sizeof(want) and \
            (ct(-1).value < 0) == (want(-1).value < 0)
    if ctype == "char *":  # a string; c_void_p where the binding reads a length-counted buffer
        return ct is ctypes.c_char_p or ct is ctypes.c_void_p
    if ctype.endswith("*"):  # any other pointer: an opaque handle, a buffer, or a typed pointer
        return ct is ctypes.c_void_p or ct is ctypes.c_char_p or \
            (isinstance(ct, type) and issubclass(ct, ctypes._Pointer))
    return False


def test_table__matches_the_c_prototypes():
    protos = c_prototypes()
    assert len(protos) > 50
    for name, restype, argtypes, _check in _native.FUNCTIONS:
        assert name in protos, f"{name}: no SBX_API prototype in include/agentsbx"
        ret, params = protos[name]
        assert _compatible(ret, restype), (name, "returns", ret, restype)
        assert len(params) == len(argtypes), (name, params, argtypes)
        for i, (cp, ct) in enumerate(zip(params, argtypes)):
            assert _compatible(cp, ct), (name, i, cp, ct)


def test_table__every_function_typed_and_checked():
    for name, restype, argtypes, check in _native.FUNCTIONS:
        fn = getattr(_native.lib, name)
        if check:
            assert restype in (ctypes.c_int,), name
            assert fn.errcheck is _native._errcheck
        # An int-returning function that is unchecked must be handled by a caller.
        if restype is ctypes.c_int and not check:
            assert name in {"sbx_last_error_stage", "sbx_landlock_abi", "sbx_child_stdio_fd",
                            "sbx_child_close_stdio", "sbx_child_poll", "sbx_result_exit_code",
                            "sbx_result_landlock_abi", "sbx_result_limit_mechanism",
                            "sbx_result_tree_kill", "sbx_policy_isolation",
                            "sbx_supervisor_remove", "sbx_supervisor_next",
                            "sbx_result_limit_hit",  # 0 or 1, never < 0
                            "sbx_result_prepared_ahead",  # 0 or 1
                            # in a handler's trampoline: a failure is the call's, not raised
                            "sbx_call_reply", "sbx_call_fail", "sbx_policy_exec_mode"}, name


def test_table__negative_return_raises_with_message():
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        _native.lib.sbx_limit_memory(None, 1 << 20)
    e = ei.value
    assert e.errno == 22 and isinstance(e, ValueError) and isinstance(e, agentsbx.SandboxError)
    assert e.function == "sbx_limit_memory"


def test_version__matches_package():
    assert agentsbx.version().split(".")[:2] == agentsbx.__version__.split(".")[:2]


def _import_in_subprocess(env, pkgdir):
    code = "import sys; sys.path.insert(0, %r); import agentsbx" % pkgdir
    return subprocess.run([sys.executable, "-B", "-c", code], env=env, capture_output=True, text=True)


def test_lookup__bad_env_path_is_import_error():
    env = dict(os.environ, AGENTSBX_LIBRARY="/nonexistent/libagentsbx.so.0")
    r = _import_in_subprocess(env, PKG_ROOT)
    assert r.returncode != 0 and "ImportError" in r.stderr and "/nonexistent" in r.stderr


def test_lookup__version_mismatch_is_import_error(tmp_path):
    dst = tmp_path / "agentsbx"
    shutil.copytree(os.path.join(PKG_ROOT, "agentsbx"), dst)
    init = dst / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', '__version__ = "9.9.0"'))
    env = dict(os.environ, AGENTSBX_LIBRARY=_native.library_path)
    r = _import_in_subprocess(env, str(tmp_path))
    assert r.returncode != 0 and "ImportError" in r.stderr
    assert "9.9" in r.stderr and agentsbx.version() in r.stderr


def test_lookup__build_tree_found_from_repository(tmp_path):
    # Without AGENTSBX_LIBRARY: the checkout's newest build*/lib, then the system
    # loader. A copy of the package in a checkout-shaped tree with a build
    # directory makes the check independent of where this run's build lives.
    import glob
    import json
    import shutil
    repo = tmp_path / "checkout"
    shutil.copytree(os.path.join(PKG_ROOT, "agentsbx"), repo / "bindings" / "python" / "agentsbx")
    (repo / "CMakeLists.txt").write_text("# a checkout\n")
    (repo / "build-x" / "lib").mkdir(parents=True)
    os.symlink(_native.library_path, repo / "build-x" / "lib" / "libagentsbx.so.0")
    code = ("import sys, os, json; sys.path.insert(0, %r); from agentsbx import _native;"
            "print(json.dumps([_native.library_path, _native.candidate_paths()]))"
            % str(repo / "bindings" / "python"))
    env = {k: v for k, v in os.environ.items() if k != "AGENTSBX_LIBRARY"}
    r = subprocess.run([sys.executable, "-B", "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    loaded, cands = json.loads(r.stdout)
    built = str(repo / "build-x" / "lib" / "libagentsbx.so.0")
    assert loaded == built  # the build tree came first, and loaded
    assert cands[0] == built and cands[-1] == "libagentsbx.so.0"
    assert glob.glob(str(repo / "build*" / "lib" / "libagentsbx.so.0")) == [built]


def test_probe_and_names():
    feats = agentsbx.probe()
    assert {"landlock", "seccomp", "pidfd"} <= set(feats)
    assert feats["landlock"].level == agentsbx.landlock_abi()
    assert agentsbx.errname(-22) == "EINVAL" and agentsbx.strerror(22) == "Invalid argument"
    assert agentsbx.stage_name(2) == "program" and agentsbx.status_name(3) == "timed_out"
    assert set(agentsbx.LAYERS) >= {"hygiene", "rlimits", "landlock", "seccomp", "monitor"}
