"""Loading libagentsbx and declaring its C functions (the one table).

Every exported function of ``lib/libagentsbx.map`` is declared exactly once in
:data:`FUNCTIONS` with its return type and argument types.  Functions whose
``check`` column is true get a ctypes ``errcheck`` that turns a negative return
into a :class:`agentsbx.SandboxError` (read on the calling thread, right after
the call, from ``sbx_last_error()`` and ``sbx_last_error_stage()``), so no
negative return can pass silently.  Functions that are not checked either
cannot fail or have a negative return the caller handles itself
(``sbx_child_poll``'s ``-EAGAIN``), which it must then pass to
:func:`agentsbx.errors.check`.

Library lookup, in order:

1. ``AGENTSBX_LIBRARY`` (a path to the shared object; if it is set and cannot
   be loaded, import fails: there is no silent fall-back);
2. the library bundled in the package (``agentsbx/libagentsbx.so.0``: the
   wheel the project's build makes carries it);
3. the build tree, when the package is imported from the repository:
   ``<repo>/build*/lib/libagentsbx.so.0`` (the newest one);
4. the system loader: ``ctypes.util.find_library("agentsbx")``, then
   ``libagentsbx.so.0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from typing import Any, Callable, List, Optional, Sequence, Tuple

from . import errors

c_policy_p = ctypes.c_void_p
c_child_p = ctypes.c_void_p
c_result_p = ctypes.c_void_p
c_supervisor_p = ctypes.c_void_p


class SbxIo(ctypes.Structure):
    """``struct sbx_io`` (child.h)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("stdin_mode", ctypes.c_int),
        ("stdout_mode", ctypes.c_int),
        ("stderr_mode", ctypes.c_int),
        ("stdin_fd", ctypes.c_int),
        ("stdout_fd", ctypes.c_int),
        ("stderr_fd", ctypes.c_int),
        ("keep_fds", ctypes.POINTER(ctypes.c_int)),
        ("n_keep_fds", ctypes.c_size_t),
    ]


class SbxSpawnOpts(ctypes.Structure):
    """``struct sbx_spawn_opts`` (child.h)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("io", ctypes.POINTER(SbxIo)),
        ("workdir", ctypes.c_char_p),
        ("env", ctypes.POINTER(ctypes.c_char_p)),
        ("wall_ms", ctypes.c_uint64),
        ("capture", ctypes.c_int),
        ("output_limit", ctypes.c_uint64),
        ("input", ctypes.c_void_p),
        ("input_len", ctypes.c_size_t),
    ]


class SbxViolation(ctypes.Structure):
    """``struct sbx_violation`` (seccomp.h)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("syscall", ctypes.c_char_p),
        ("nr", ctypes.c_int),
        ("error", ctypes.c_int),
        ("pid", ctypes.c_int),
        ("args", ctypes.c_uint64 * 6),
        ("time_ns", ctypes.c_uint64),
    ]


class SbxExecDenial(ctypes.Structure):
    """``struct sbx_exec_denial`` (seccomp.h)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("path", ctypes.c_char_p),
        ("reason", ctypes.c_int),
        ("pid", ctypes.c_int),
        ("time_ns", ctypes.c_uint64),
        ("count", ctypes.c_uint64),
    ]


class SbxAccessDenial(ctypes.Structure):
    """``struct sbx_access_denial`` (seccomp.h)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("kind", ctypes.c_int),
        ("syscall", ctypes.c_char_p),
        ("path", ctypes.c_char_p),
        ("dir", ctypes.c_char_p),
        ("missing", ctypes.c_uint64),
        ("port", ctypes.c_int),
        ("pid", ctypes.c_int),
        ("time_ns", ctypes.c_uint64),
        ("count", ctypes.c_uint64),
    ]


#: ``sbx_violation_fn``: void (*)(const sbx_violation *, void *)
VIOLATION_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(SbxViolation), ctypes.c_void_p)
#: ``sbx_output_fn``: void (*)(int stream, const char *data, size_t len, void *)
OUTPUT_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
#: ``sbx_audit_fn``: void (*)(const char *line, size_t len, void *)
AUDIT_FN = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p)
# int (*sbx_capability_fn)(sbx_call *call, void *userdata)
CAPABILITY_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
c_output_filter_p = ctypes.c_void_p

_P = ctypes.POINTER
_i, _u32, _u64, _sz = ctypes.c_int, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_size_t
_s = ctypes.c_char_p

#: The one table: (name, restype, argtypes, check-negative-returns).
FUNCTIONS: Tuple[Tuple[str, Any, Sequence[Any], bool], ...] = (
    # common.h
    ("sbx_errname", _s, [_i], False),
    ("sbx_strerror", _s, [_i], False),
    ("sbx_last_error", _s, [], False),
    ("sbx_last_error_stage", _i, [], False),
    ("sbx_stage_name", _s, [_i], False),
    ("sbx_version", _s, [], False),
    # policy.h
    ("sbx_policy_new", _i, [_P(c_policy_p)], True),
    ("sbx_policy_free", None, [c_policy_p], False),
    ("sbx_policy_dup", _i, [c_policy_p, _P(c_policy_p)], True),
    ("sbx_set_workdir", _i, [c_policy_p, _s], True),
    ("sbx_set_env", _i, [c_policy_p, _s, _s], True),
    ("sbx_pass_env", _i, [c_policy_p, _s], True),
    ("sbx_unset_env", _i, [c_policy_p, _s], True),
    ("sbx_limit_cpu_time", _i, [c_policy_p, _u64], True),
    ("sbx_limit_wall_time", _i, [c_policy_p, _u64], True),
    ("sbx_limit_memory", _i, [c_policy_p, _u64], True),
    ("sbx_limit_open_files", _i, [c_policy_p, _u64], True),
    ("sbx_limit_file_size", _i, [c_policy_p, _u64], True),
    ("sbx_limit_processes", _i, [c_policy_p, _u64], True),
    ("sbx_limit_output", _i, [c_policy_p, _u64], True),
    ("sbx_set_best_effort", _i, [c_policy_p, _u32], True),
    ("sbx_set_die_with_parent", _i, [c_policy_p, _i], True),
    ("sbx_prepare_ahead", _i, [c_policy_p, _i], True),
    ("sbx_allow_path", _i, [c_policy_p, _s, _u64], True),
    ("sbx_allow_tool", _i, [c_policy_p, _s], True),
    ("sbx_allow_tool_args", _i, [c_policy_p, _s, _P(ctypes.c_char_p), _P(ctypes.c_char_p)], True),
    ("sbx_allow_connect", _i, [c_policy_p, _i], True),
    ("sbx_allow_bind", _i, [c_policy_p, _i], True),
    ("sbx_allow_network", _i, [c_policy_p], True),
    ("sbx_set_private_tmp", _i, [c_policy_p, _i], True),
    ("sbx_set_tmp_parent", _i, [c_policy_p, _s], True),
    ("sbx_landlock_abi", _i, [], False),
    # child.h
    ("sbx_spawn", _i, [c_policy_p, _P(_s), _P(SbxIo), _P(c_child_p)], True),
    ("sbx_spawn_with", _i, [c_policy_p, _P(_s), _P(SbxSpawnOpts), _P(c_child_p)], True),
    ("sbx_child_process", _i, [c_child_p], True),
    ("sbx_child_pid", _i, [c_child_p], True),
    ("sbx_child_fd", _i, [c_child_p], True),
    ("sbx_child_timeout_ms", ctypes.c_int64, [c_child_p], False),
    ("sbx_child_stdio_fd", _i, [c_child_p, _i], False),  # -EBADF: "not a pipe / closed"
    ("sbx_child_close_stdio", _i, [c_child_p, _i], False),  # -EBADF: already closed
    ("sbx_child_signal", _i, [c_child_p, _i], True),
    ("sbx_child_kill", _i, [c_child_p], True),
    ("sbx_child_wait", _i, [c_child_p, _P(c_result_p)], True),
    ("sbx_child_poll", _i, [c_child_p, _P(c_result_p)], False),  # -EAGAIN: still running
    ("sbx_child_free", None, [c_child_p], False),
    ("sbx_run", _i, [c_policy_p, _P(_s), ctypes.c_void_p, _sz, _P(c_result_p)], True),
    ("sbx_run_with", _i, [c_policy_p, _P(_s), _P(SbxSpawnOpts), _P(c_result_p)], True),
    # result.h
    ("sbx_result_free", None, [c_result_p], False),
    ("sbx_result_status", _i, [c_result_p], True),
    ("sbx_status_name", _s, [_i], False),
    ("sbx_result_exit_code", _i, [c_result_p], False),  # -1: did not exit
    ("sbx_result_signal", _i, [c_result_p], True),
    ("sbx_result_wall_ns", _u64, [c_result_p], False),
    ("sbx_result_user_cpu_ns", _u64, [c_result_p], False),
    ("sbx_result_system_cpu_ns", _u64, [c_result_p], False),
    ("sbx_result_peak_rss_bytes", _u64, [c_result_p], False),
    ("sbx_result_layers", _u32, [c_result_p], False),
    ("sbx_result_stdout", ctypes.c_void_p, [c_result_p, _P(_sz)], False),
    ("sbx_result_stderr", ctypes.c_void_p, [c_result_p, _P(_sz)], False),
    ("sbx_result_truncated", _i, [c_result_p, _i], True),
    ("sbx_result_to_json", _i, [c_result_p, ctypes.c_char_p, _sz], True),
    ("sbx_layer_name", _s, [_u32], False),
    ("sbx_result_landlock_abi", _i, [c_result_p], False),
    ("sbx_result_landlock_rights", _u32, [c_result_p], False),
    ("sbx_landlock_right_name", _s, [_u32], False),
    # seccomp.h
    ("sbx_deny_syscall", _i, [c_policy_p, _s, _i], True),
    ("sbx_allow_syscall", _i, [c_policy_p, _s], True),
    ("sbx_set_syscall_allowlist", _i, [c_policy_p, _i], True),
    ("sbx_set_violation_monitor", _i, [c_policy_p, _i], True),
    ("sbx_set_violation_callback", _i, [c_policy_p, VIOLATION_FN, ctypes.c_void_p], True),
    ("sbx_set_violation_limit", _i, [c_policy_p, _u64], True),
    ("sbx_result_violation_count", _u64, [c_result_p], False),
    ("sbx_result_violation", _i, [c_result_p, _sz, _P(SbxViolation)], True),
    ("sbx_set_violation_rate", _i, [c_policy_p, _u64], True),
    ("sbx_result_violation_kinds", _sz, [c_result_p], False),
    ("sbx_result_violation_kind", _i, [c_result_p, _sz, _P(SbxViolation), _P(_u64)], True),
    ("sbx_result_violations_dropped", _u64, [c_result_p], False),
    ("sbx_result_violations_benign", _u64, [c_result_p], False),
    ("sbx_set_exec_reporting", _i, [c_policy_p, _i], True),
    ("sbx_result_exec_denial_count", _u64, [c_result_p], False),
    ("sbx_result_exec_denials", _sz, [c_result_p], False),
    ("sbx_result_exec_denial", _i, [c_result_p, _sz, _P(SbxExecDenial)], True),
    ("sbx_exec_denied_name", _s, [_i], False),
    ("sbx_set_diagnose", _i, [c_policy_p, _i], True),
    ("sbx_result_access_denial_count", _u64, [c_result_p], False),
    ("sbx_result_access_denials", _sz, [c_result_p], False),
    ("sbx_result_access_denial", _i, [c_result_p, _sz, _P(SbxAccessDenial)], True),
    ("sbx_set_learn", _i, [c_policy_p, _i], True),
    ("sbx_policy_learn", _i, [c_policy_p, c_result_p], True),
    # units.h
    ("sbx_parse_size", _i, [_s, _P(_u64)], True),
    ("sbx_parse_duration", _i, [_s, _P(_u64)], True),
    # probe.h
    ("sbx_probe", _i, [_i, ctypes.c_char_p, _sz], True),
    ("sbx_feature_name", _s, [_i], False),
    # cgroup.h
    ("sbx_use_cgroup", _i, [c_policy_p, _i], True),
    ("sbx_set_cgroup_parent", _i, [c_policy_p, _s], True),
    ("sbx_limit_cpu_rate", _i, [c_policy_p, _u64], True),
    ("sbx_result_limit_mechanism", _i, [c_result_p, _i], False),  # an enum value, never < 0
    ("sbx_result_peak_memory_bytes", _u64, [c_result_p], False),
    ("sbx_result_limit_hit", _i, [c_result_p, _i], False),
    # output.h
    ("sbx_set_output_callback", _i, [c_policy_p, OUTPUT_FN, ctypes.c_void_p], True),
    ("sbx_redact_value", _i, [c_policy_p, _s], True),
    ("sbx_set_redact_patterns", _i, [c_policy_p, _i], True),
    ("sbx_set_output_escapes", _i, [c_policy_p, _i], True),
    ("sbx_result_redactions", _u64, [c_result_p], False),
    ("sbx_result_escapes", _u64, [c_result_p], False),
    ("sbx_set_audit_limit", _i, [c_policy_p, _u64], True),
    ("sbx_result_audit_dropped", _u64, [c_result_p], False),
    ("sbx_set_output_unicode", _i, [c_policy_p, _i, _i], True),
    ("sbx_result_unicode", _u64, [c_result_p, _i], False),
    ("sbx_result_unicode_tag_text", _s, [c_result_p], False),  # NULL: memory ran out (no text)
    ("sbx_output_filter_new", _i, [c_policy_p, _i, OUTPUT_FN, ctypes.c_void_p, _P(c_output_filter_p)], True),
    ("sbx_output_filter_write", _i, [c_output_filter_p, ctypes.c_void_p, _sz], True),
    ("sbx_output_filter_finish", _i, [c_output_filter_p], True),
    ("sbx_output_filter_redactions", _u64, [c_output_filter_p], False),
    ("sbx_output_filter_escapes", _u64, [c_output_filter_p], False),
    ("sbx_output_filter_unicode", _u64, [c_output_filter_p, _i], False),
    ("sbx_output_filter_unicode_tag_text", _s, [c_output_filter_p], False),
    ("sbx_output_filter_free", None, [c_output_filter_p], False),
    ("sbx_set_audit_fd", _i, [c_policy_p, _i], True),
    ("sbx_set_audit_callback", _i, [c_policy_p, AUDIT_FN, ctypes.c_void_p], True),
    # namespace.h
    ("sbx_unshare", _i, [c_policy_p, _u32], True),
    ("sbx_policy_namespaces", _u32, [c_policy_p], False),
    ("sbx_parse_namespaces", _i, [_s, _P(_u32)], True),
    ("sbx_namespace_name", _s, [_u32], False),
    ("sbx_result_namespaces", _u32, [c_result_p], False),
    ("sbx_result_tree_kill", _i, [c_result_p], False),  # an enum value, never < 0
    ("sbx_result_prepared_ahead", _i, [c_result_p], False),  # 0 or 1
    ("sbx_set_subreaper", _i, [c_policy_p, _i], True),
    ("sbx_set_isolation", _i, [c_policy_p, _i], True),
    ("sbx_policy_isolation", _i, [c_policy_p], False),  # an enum value, never < 0
    ("sbx_isolation_name", _s, [_i], False),
    ("sbx_set_exec_mode", _i, [c_policy_p, _i], True),
    ("sbx_policy_exec_mode", _i, [c_policy_p], False),  # an enum value, never < 0
    ("sbx_exec_mode_name", _s, [_i], False),
    ("sbx_result_isolation_fallback", _s, [c_result_p], False),
    ("sbx_result_workdir_note", _s, [c_result_p], False),
    # capability.h
    ("sbx_keep_capability", _i, [c_policy_p, _s], True),
    # capchan.h
    ("sbx_allow_capability", _i, [c_policy_p, _s, CAPABILITY_FN, ctypes.c_void_p], True),
    ("sbx_limit_capability_calls", _i, [c_policy_p, _u64], True),
    ("sbx_limit_capability_request", _i, [c_policy_p, _u64], True),
    ("sbx_policy_capability_count", _sz, [c_policy_p], False),
    ("sbx_call_name", _s, [ctypes.c_void_p], False),
    ("sbx_call_args", ctypes.c_void_p, [ctypes.c_void_p, _P(_sz)], False),
    ("sbx_call_reply", _i, [ctypes.c_void_p, ctypes.c_char_p, _sz], False),
    ("sbx_call_fail", _i, [ctypes.c_void_p, _s], False),
    ("sbx_result_capability_calls", _u64, [c_result_p], False),
    ("sbx_result_capability_refused", _u64, [c_result_p], False),
    ("sbx_result_tool_denial_count", _u64, [c_result_p], False),
    ("sbx_result_tool_denial", _s, [c_result_p, _sz], False),
    ("sbx_allow_unix_socket", _i, [c_policy_p, _s], True),
    # carve.h
    ("sbx_deny_path", _i, [c_policy_p, _s, _u64], True),
    ("sbx_protect_path", _i, [c_policy_p, _s], True),
    ("sbx_bind", _i, [c_policy_p, _s, _s, _u64], True),
    ("sbx_tmpfs", _i, [c_policy_p, _s, _u64], True),
    ("sbx_overlay", _i, [c_policy_p, _s, _s], True),
    ("sbx_result_overlay_count", _sz, [c_result_p], False),
    ("sbx_result_overlay", _i, [c_result_p, _sz, _P(ctypes.c_char_p), _P(ctypes.c_char_p)], True),
    ("sbx_overlay_changes", _i, [_s, _s, _P(ctypes.c_void_p)], True),
    ("sbx_changes_count", _sz, [ctypes.c_void_p], False),
    ("sbx_changes_get", _i, [ctypes.c_void_p, _sz, _P(ctypes.c_char_p), _P(_i), _P(_i)], True),
    ("sbx_changes_free", None, [ctypes.c_void_p], False),
    ("sbx_change_kind_name", _s, [_i], False),
    ("sbx_file_type_name", _s, [_i], False),
    ("sbx_overlay_apply", _i, [_s, _s], True),
    ("sbx_overlay_discard", _i, [_s], True),
    ("sbx_unprotect", _i, [c_policy_p, _s], True),
    ("sbx_policy_protected", _i, [c_policy_p, ctypes.c_size_t, _P(ctypes.c_char_p)], True),
    ("sbx_protected_default", _s, [ctypes.c_size_t], False),
    ("sbx_policy_denied_count", ctypes.c_size_t, [c_policy_p], False),
    ("sbx_policy_denied", _i, [c_policy_p, ctypes.c_size_t, _P(ctypes.c_char_p), _P(_u64)], True),
    ("sbx_policy_kept_capabilities", _u64, [c_policy_p], False),
    ("sbx_capability_from_name", _i, [_s], True),
    ("sbx_capability_name", _s, [_i], False),
    ("sbx_result_capabilities", _u64, [c_result_p, _i], False),
    # network.h
    ("sbx_allow_host", _i, [c_policy_p, _s], True),
    ("sbx_deny_host", _i, [c_policy_p, _s], True),
    ("sbx_broker_resolve", _i, [c_policy_p, _s, _s], True),
    ("sbx_allow_private_network", _i, [c_policy_p, _i], True),
    ("sbx_limit_network_bytes", _i, [c_policy_p, _u64, _u64], True),
    ("sbx_limit_network_rate", _i, [c_policy_p, _u64], True),
    ("sbx_limit_connections", _i, [c_policy_p, _u64, _u64], True),
    ("sbx_result_network_bytes", _i, [c_result_p, _P(_u64), _P(_u64)], True),
    ("sbx_result_network_connections", _u64, [c_result_p], False),
    ("sbx_result_network_denied", _u64, [c_result_p], False),
    ("sbx_result_network_quota", _s, [c_result_p], False),
    ("sbx_result_network_denials", _sz, [c_result_p], False),
    ("sbx_result_network_denial", _i, [c_result_p, _sz, _P(_s), _P(_i), _P(_s)], True),
    # supervisor.h
    ("sbx_supervisor_new", _i, [_P(c_supervisor_p)], True),
    ("sbx_supervisor_free", None, [c_supervisor_p], False),
    ("sbx_supervisor_add", _i, [c_supervisor_p, c_child_p], True),
    ("sbx_supervisor_spawn", _i, [c_supervisor_p, c_policy_p, _P(_s), _P(SbxIo), _P(c_child_p)], True),
    ("sbx_supervisor_remove", _i, [c_supervisor_p, c_child_p], False),  # -EALREADY: ended meanwhile
    ("sbx_supervisor_fd", _i, [c_supervisor_p], True),
    ("sbx_supervisor_timeout_ms", ctypes.c_int64, [c_supervisor_p], False),
    ("sbx_supervisor_step", _i, [c_supervisor_p], True),
    ("sbx_supervisor_wait", _i, [c_supervisor_p, _i], True),
    ("sbx_supervisor_next", _i, [c_supervisor_p, _P(c_child_p), _P(c_result_p)], False),  # -EAGAIN
    ("sbx_supervisor_running", _sz, [c_supervisor_p], False),
    ("sbx_supervisor_pending", _sz, [c_supervisor_p], False),
    # policy_json.h
    ("sbx_policy_load_json", _i, [c_policy_p, _s], True),
    ("sbx_policy_load_file", _i, [c_policy_p, _s], True),
    ("sbx_policy_to_json", _i, [c_policy_p, ctypes.c_char_p, _sz], True),
    ("sbx_policy_apply_profile", _i, [c_policy_p, _s], True),
    ("sbx_profile_name", _s, [_sz], False),
)

LIBRARY_NAME = "libagentsbx.so.0"


def candidate_paths() -> List[str]:
    """The paths (or loader names) tried, in order, to load the library."""
    env = os.environ.get("AGENTSBX_LIBRARY")
    if env:
        return [env]
    found: List[str] = []
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = os.path.join(here, LIBRARY_NAME)
    if os.path.isfile(bundled):
        found.append(bundled)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(here)))  # agentsbx -> python -> bindings -> repo
    if os.path.isfile(os.path.join(repo, "CMakeLists.txt")):
        builds = glob.glob(os.path.join(repo, "build*", "lib", LIBRARY_NAME))
        builds.sort(key=lambda p: os.stat(p).st_mtime, reverse=True)
        found.extend(builds)
    sysname = ctypes.util.find_library("agentsbx")
    if sysname:
        found.append(sysname)
    found.append(LIBRARY_NAME)
    return found


def _errcheck(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    if result < 0:
        raise errors.error_from_library(result, func.__name__)
    return result


def load() -> Tuple[ctypes.CDLL, str]:
    """Load the library, declare every function of :data:`FUNCTIONS`, and
    return ``(library, path)``.  Raises :class:`ImportError` when no candidate
    loads or a symbol is missing."""
    tried: List[str] = []
    lib: Optional[ctypes.CDLL] = None
    path = ""
    env_set = bool(os.environ.get("AGENTSBX_LIBRARY"))
    for cand in candidate_paths():
        try:
            lib = ctypes.CDLL(cand, use_errno=True)
            path = cand
            break
        except OSError as exc:
            tried.append(f"{cand}: {exc}")
            if env_set:
                break
    if lib is None:
        raise ImportError("agentsbx: cannot load libagentsbx (" + "; ".join(tried) +
                          "); set AGENTSBX_LIBRARY to the path of libagentsbx.so.0")
    for name, restype, argtypes, check in FUNCTIONS:
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError(f"agentsbx: {path} has no symbol {name}: library too old") from None
        fn.restype = restype
        fn.argtypes = list(argtypes)
        if check:
            fn.errcheck = _errcheck
    return lib, path


lib, library_path = load()
errors._bind(lib)
