"""The Pythonic layer: Policy, Child, SandboxResult."""

from __future__ import annotations

import ctypes
import errno as _errno
import json
import math
import os
import re
import select
import signal as _signal
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import (TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Generic, Iterable, List, Mapping,
                    Literal, NamedTuple, Optional, Sequence, Tuple, TypeVar, Union, overload)

from . import errors as _err
if TYPE_CHECKING:
    from ._aio import AsyncChild

from ._closing import Closing
from ._native import (CAPABILITY_FN, VIOLATION_FN, SbxAccessDenial, SbxExecDenial, SbxIo, SbxSpawnOpts,
                      SbxViolation, c_child_p, c_policy_p, c_result_p, lib)

StrPath = Union[str, "os.PathLike[str]"]
#: A program and its arguments (or a bare program).
_Args = Union[Sequence[Union[str, bytes, "os.PathLike[str]"]], str, bytes, "os.PathLike[str]"]
Size = Union[int, str]

#: Pass to a limit to remove it (``SBX_UNLIMITED``).
UNLIMITED = 2**64 - 1
#: ``deny_syscall(name, errno=KILL)``: kill the calling process with SIGSYS.
KILL = -1
#: Standard-stream modes for :meth:`Policy.spawn` (as in :mod:`subprocess`).
PIPE = -1
# Bytes Child.communicate() reads per stream after the child's end (as the
# library's event engine).
_DRAIN_MAX = 1 << 20
DEVNULL = -3

_FS_READ, _FS_WRITE, _FS_EXEC, _FS_OPTIONAL = 1, 2, 4, 1 << 63
_STDIO_INHERIT, _STDIO_NULL, _STDIO_PIPE, _STDIO_FD = 0, 1, 2, 3
_STATUS_TIMED_OUT = 3
_MECHANISMS = {0: "none", 1: "rlimit", 2: "cgroup", 3: "tmpfs", 4: "disk"}  # enum sbx_mechanism


def _s(b: Optional[bytes]) -> str:
    return b.decode("utf-8", "replace") if b else ""


def _bit_names(namefn: Callable[[int], bytes]) -> Dict[str, int]:
    names: Dict[str, int] = {}
    for i in range(32):
        n = _s(namefn(1 << i))
        if n and n != "unknown":
            names[n] = 1 << i
    return names


#: Layer name -> bit, from ``sbx_layer_name`` ("hygiene", "rlimits", "landlock", ...).
LAYERS: Dict[str, int] = _bit_names(lib.sbx_layer_name)
#: Landlock right name -> bit, from ``sbx_landlock_right_name``.
LANDLOCK_RIGHTS: Dict[str, int] = _bit_names(lib.sbx_landlock_right_name)
#: Namespace name -> bit, from ``sbx_namespace_name`` ("user", "pid", "net", ...).
NAMESPACES: Dict[str, int] = _bit_names(lib.sbx_namespace_name)


#: Isolation mode name -> value (enum sbx_isolation), from ``sbx_isolation_name``.
ISOLATION: Dict[str, int] = {_s(lib.sbx_isolation_name(i)): i for i in range(3)}

#: Exec mode name -> value (enum sbx_exec_mode), from ``sbx_exec_mode_name``.
EXEC_MODES: Dict[str, int] = {_s(lib.sbx_exec_mode_name(i)): i for i in range(2)}


def _fallback(why: Optional[bytes]) -> Optional[str]:
    return _s(why) if why else None


def _names(mask: int, table: Mapping[str, int]) -> FrozenSet[str]:
    return frozenset(n for n, b in table.items() if mask & b)


# ---- conversions ------------------------------------------------------------

def parse_size(value: Size) -> int:
    """A size in bytes from an int or a string such as ``"512M"``, ``"1G"``,
    ``"64K"``, ``"64KiB"``, ``"unlimited"`` (binary multiples; the library's
    grammar, ``sbx_parse_size``, shared with the CLI and policy files).

    Raises :class:`TypeError` for other types and :class:`ValueError` for a
    malformed string (``"12Q"``) or a negative number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"size must be an int or a string like '512M', not {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must not be negative: {value}")
        return value
    out = ctypes.c_uint64(0)
    try:
        lib.sbx_parse_size(value.encode("utf-8", "replace"), ctypes.byref(out))
    except _err.SandboxError as e:
        raise ValueError(f"invalid size {value!r}: {e.message}") from None
    return out.value


def parse_duration(value: Union[str, int, float]) -> float:
    """A duration in seconds from a number of seconds or a string such as
    ``"30"``, ``"1.5s"``, ``"500ms"``, ``"2m"``, ``"1h"`` (the library's grammar,
    ``sbx_parse_duration``); ``"unlimited"`` gives ``math.inf``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"duration must be a number or a string like '30s', not {type(value).__name__}")
    if not isinstance(value, str):
        if value != value or value < 0:
            raise ValueError(f"duration must not be negative: {value!r}")
        return float(value)
    out = ctypes.c_uint64(0)
    try:
        lib.sbx_parse_duration(value.encode("utf-8", "replace"), ctypes.byref(out))
    except _err.SandboxError as e:
        raise ValueError(f"invalid duration {value!r}: {e.message}") from None
    return math.inf if out.value == UNLIMITED else out.value / 1e9


def _path(path: StrPath, what: str = "path") -> bytes:
    if path is None or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{what} must be a str or os.PathLike, not {type(path).__name__}")
    p = os.fsencode(path)
    if b"\0" in p:
        raise ValueError(f"{what} contains a NUL byte")
    return p


def _dir(path: bytes, function: str) -> bytes:
    """Refuse at once a workdir that exists and is not a directory (a missing one
    is reported at spawn, stage workdir, where the library opens it)."""
    try:
        st = os.stat(path)
    except OSError:
        return path
    if not stat.S_ISDIR(st.st_mode):
        raise _err.PathNotADirectoryError(_errno.ENOTDIR, f"{function}({os.fsdecode(path)}): Not a directory",
                                          "none", function)
    return path


def _name(name: str, what: str = "name") -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if "\0" in name:
        raise ValueError(f"{what} contains a NUL byte")
    return os.fsencode(name)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


def _seconds(value: Any, what: str, scale: int) -> int:
    """Seconds (int or float) -> integer units of 1/scale s, rounded up; UNLIMITED passes."""
    if isinstance(value, str):
        value = parse_duration(value)  # "30s", "500ms", "2m", "unlimited"
        if math.isinf(value):
            return UNLIMITED
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(value).__name__}")
    if value == UNLIMITED:
        return UNLIMITED
    if value != value or value <= 0 or math.isinf(value):
        raise ValueError(f"{what} must be a positive number of seconds, not {value!r}")
    return max(1, math.ceil(value * scale))


def _access(access: str) -> int:
    if not isinstance(access, str):
        raise TypeError(f"access must be a string of 'r', 'w', 'x', not {type(access).__name__}")
    if not access or any(c not in "rwx" for c in access):
        raise ValueError(f"access must be a non-empty string of 'r', 'w', 'x', not {access!r}")
    return (_FS_READ if "r" in access else 0) | (_FS_WRITE if "w" in access else 0) | \
        (_FS_EXEC if "x" in access else 0)


def _argv(args: _Args) -> Tuple[List[Any], Any]:
    if isinstance(args, (str, bytes, os.PathLike)):
        args = [args]
    if not isinstance(args, (list, tuple)):
        raise TypeError(f"args must be a sequence of str, not {type(args).__name__}")
    if not args:
        raise ValueError("args must not be empty")
    enc = []
    for a in args:
        if not isinstance(a, (str, bytes, os.PathLike)):
            raise TypeError(f"args items must be str, bytes or os.PathLike, not {type(a).__name__}")
        b = os.fsencode(a)
        if b"\0" in b:
            raise ValueError("an argument contains a NUL byte")
        enc.append(b)
    arr = (ctypes.c_char_p * (len(enc) + 1))(*enc, None)
    return list(args), arr


# ---- results -----------------------------------------------------------------

class ExecDenial(NamedTuple):
    """An exec the sandbox stopped (:attr:`SandboxResult.exec_denials`)."""

    path: str
    """The file as the child named it."""
    reason: str
    """``"not granted"`` (grant it with :meth:`Policy.allow_tool`) or ``"noexec mount"``."""
    times: int
    """How many times it was denied for this reason."""
    pid: int
    """The process that tried first (the host's pid)."""
    time: float
    """Seconds after the spawn of the first try."""


class AccessDenial(NamedTuple):
    """A file or network access Landlock stopped, as diagnose mode saw it
    (:attr:`SandboxResult.access_denials`)."""

    kind: str
    """``"file"``, ``"connect"`` or ``"bind"``."""
    syscall: str
    """The system call (``"openat"``, ``"connect"``)."""
    path: str
    """The file or directory as resolved in the child's view (``""`` for network)."""
    dir: str
    """The directory a grant would name (``""`` for network)."""
    missing: List[str]
    """The rights the policy lacks there: ``"read"``, ``"exec"``, ``"write_file"``,
    ``"truncate"``, ``"create"``, ``"remove"``, ``"make_symlink"``, ``"make_special"``,
    ``"refer"`` (empty for network)."""
    port: int
    """The TCP port (``-1`` for files)."""
    times: int
    """How many times it was denied."""
    pid: int
    """The process that tried first (the host's pid)."""
    time: float
    """Seconds after the spawn of the first try."""


class Violation(NamedTuple):
    """A denied system call, as the violation monitor saw it."""

    syscall: str
    """Its name (``"ptrace"``), or ``"syscall_NNN"``."""
    nr: int
    """Its number on the native architecture."""
    errno: int
    """The errno it failed with in the child (positive)."""
    pid: int
    """The thread that made it (host pid namespace)."""
    args: Tuple[int, ...]
    """The six raw arguments."""
    time: float
    """Seconds since the spawn."""

    @classmethod
    def _from_c(cls, v: SbxViolation) -> "Violation":
        return cls(_s(v.syscall), v.nr, v.error, v.pid, tuple(v.args), v.time_ns / 1e9)


_T = TypeVar("_T")


@dataclass(frozen=True)
class SandboxResult(Generic[_T]):
    """How a child ended (the counterpart of :class:`subprocess.CompletedProcess`).

    ``returncode`` follows :mod:`subprocess`: the exit code, or ``-N`` when the
    child died of signal N (a timeout, a limit or :meth:`Child.kill` end with a
    signal too: look at ``status`` to know why).
    """

    args: List[Any]
    returncode: int
    stdout: Optional[_T]
    """The captured standard output (``str`` with ``text``/``encoding``/``errors``),
    or None when it was not captured."""
    stderr: Optional[_T]
    status: str
    """"exited", "signaled", "timed_out", "cpu_limit", "file_size_limit",
    "memory_limit", "killed", "violation" or "network_limit"."""
    exit_code: Optional[int]
    """The exit code when ``status == "exited"``, else None."""
    signal: Optional[int]
    """The signal that ended the child, else None."""
    layers: FrozenSet[str]
    """The layers that were enforced."""
    landlock_abi: int
    landlock_rights: FrozenSet[str]
    violations: List[Violation]
    """The first violations kept in detail (16), in order."""
    violation_count: int
    """All the denied calls counted (may exceed ``len(violations)``)."""
    wall_time: float
    """Seconds from spawn to end."""
    user_cpu_time: float
    system_cpu_time: float
    peak_rss: int
    """Peak resident set size in bytes."""
    violation_kinds: List[Tuple[Violation, int]] = field(default_factory=list)
    """Each kind of denied call (a system call and its errno) with how many times
    it was denied, in the order the kinds first appeared (at most 32 kinds)."""
    peak_memory: int = 0
    """Peak memory of the child's cgroup, all processes together (0 without the cgroup layer)."""
    limit_mechanisms: Dict[str, str] = field(default_factory=dict)
    """How the memory, processes and CPU rate limits were enforced:
    ``{"memory": "rlimit" | "cgroup" | "none", "processes": ..., "cpu_rate": "cgroup" | "none",
    "tmp": "tmpfs" | "cgroup" | "disk" | "none"}`` (``tmp``: what bounds the private TMPDIR's
    memory under a memory limit)."""
    limits_hit: List[str] = field(default_factory=list)
    """Limits reached anywhere in the child's tree, even if the main process went on
    (``sbx_result_limit_hit``): ``"memory"`` (the cgroup's OOM killer killed a process),
    ``"processes"`` (the cgroup refused a fork).  Known only where a cgroup enforced the
    limit (``limit_mechanisms[...] == "cgroup"``): an rlimit's failure is counted nowhere."""
    namespaces: FrozenSet[str] = frozenset()
    """The namespaces the child ran in: ``{"user", "pid", "net", "ipc", "uts", "mount", "cgroup"}``."""
    isolation_fallback: Optional[str] = None
    """Why ``"auto"`` isolation ran without namespaces (the host refused them: a
    container's seccomp profile, a user-namespace restriction), or ``None`` when
    nothing fell back (``sbx_result_isolation_fallback``)."""
    workdir_note: Optional[str] = None
    """Why the child started in ``/`` instead of the host's current directory: no
    working directory was set (no ``cwd``, no :meth:`Policy.set_workdir`) and the
    policy does not let the child read the host's one, or ``None`` when it started
    where it was asked to (``sbx_result_workdir_note``)."""
    prepared_ahead: bool = False
    """Whether the child ran in a sandbox prepared before its spawn
    (:meth:`Policy.prepare_ahead`, ``sbx_result_prepared_ahead``)."""
    tree_kill: str = "pgroup"
    """How its whole tree was killed: ``"pidns"``, ``"cgroup"``, ``"subreaper"`` or ``"pgroup"``
    (see docs/namespaces.md). ``run`` never leaves a survivor: ``"pgroup"`` only from ``spawn``
    without :meth:`Policy.subreaper`."""
    capabilities: Dict[str, FrozenSet[str]] = field(default_factory=dict)
    """The capability sets the program started with (``sbx_result_capabilities``):
    ``{"effective": {...}, "permitted": ..., "inheritable": ..., "bounding": ..., "ambient": ...}``,
    each a set of names such as ``"CAP_NET_BIND_SERVICE"``; empty unless kept."""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    redactions: int = 0
    """Secrets the output filter replaced in the child's output, both streams
    (``sbx_result_redactions``; counted by a capturing ``run`` only)."""
    escapes: int = 0
    """Control characters or invalid bytes neutralised (``sbx_result_escapes``;
    0 unless ``escape_output("neutralise")``)."""
    violations_dropped: int = 0
    """Denied calls counted but not kept in ``violations`` (all past the first 16):
    ``len(violations) + violations_dropped == violation_count``."""
    violations_benign: int = 0
    """Denied calls that are known harmless probes (npm's netlink socket), counted in
    ``violation_count`` too (``sbx_result_violations_benign``)."""
    exec_denials: List[ExecDenial] = field(default_factory=list)
    """Execs the sandbox denied, with :meth:`Policy.exec_reporting` on: each path and
    why, coalesced (``sbx_result_exec_denial``)."""
    exec_denial_count: int = 0
    """How many execs were denied in all (``sbx_result_exec_denial_count``)."""
    capability_calls: int = 0
    """Calls of host operations answered by a handler (``sbx_result_capability_calls``)."""
    tool_denials: List[str] = field(default_factory=list)
    """The first 16 tool calls the argument rules denied, described
    ("git push origin: not allowed by the argument rules"; ``sbx_result_tool_denial``)."""
    tool_denial_count: int = 0
    """How many tool calls the argument rules denied (``sbx_result_tool_denial_count``)."""
    capability_refused: int = 0
    """Calls refused without a handler: unknown operation, malformed, too large, over the
    budget, out of turn (``sbx_result_capability_refused``)."""
    overlays: List[Tuple[str, str]] = field(default_factory=list)
    """Each overlay of the run (:meth:`Policy.overlay`) as ``(lower, upper)``: the upper
    directory holds the child's changes (the private one when none was named); review
    them with :func:`overlay_changes`, then :func:`overlay_apply` or :func:`overlay_discard`
    (``sbx_result_overlay``)."""
    access_denials: List[AccessDenial] = field(default_factory=list)
    """File opens, connects and binds Landlock denied, with :meth:`Policy.diagnose`
    on: each path or port and the missing right, coalesced (``sbx_result_access_denial``)."""
    access_denial_count: int = 0
    """How many accesses were denied in all (``sbx_result_access_denial_count``)."""
    audit_dropped: int = 0
    """Audit events counted, not written: repeats of a kind past its 8th, and all
    past the audit budget (``sbx_result_audit_dropped``; 0 without an audit log)."""
    unicode: Dict[str, int] = field(default_factory=dict)
    """Characters of each Unicode class the output filter saw, both streams, whatever
    its action (``sbx_result_unicode``): ``{"tags": N, "bidi": N, "invisible": N,
    "invalid_utf8": N}``; 0 each unless ``run`` captured the output."""
    unicode_tag_text: Optional[str] = ""
    """What the tag characters of the output spell, decoded to ASCII, redacted, at
    most 256 bytes (``sbx_result_unicode_tag_text``); None if memory ran out while it
    was redacted."""
    learned_policy: Optional[str] = None
    """With :meth:`Policy.learn` on: the policy file (JSON, ``sbx_policy_learn`` on a new
    policy, written by ``sbx_policy_to_json``) that grants what the child did; load it
    with :meth:`Policy.load_json` after review.  None otherwise."""
    json: Dict[str, Any] = field(default_factory=dict, repr=False)
    """The library's own JSON rendering (``sbx_result_to_json``), parsed."""

    @property
    def cpu_time(self) -> float:
        """User plus system CPU seconds."""
        return self.user_cpu_time + self.system_cpu_time

    @property
    def timed_out(self) -> bool:
        return self.status == "timed_out"

    def check_returncode(self) -> None:
        """Raise :class:`SandboxProcessError` if ``returncode`` is not 0."""
        if self.returncode != 0:
            raise _err.SandboxProcessError(self)


def _decode_out(data: Optional[bytes], text: bool, encoding: Optional[str],
                errs: Optional[str]) -> Optional[Union[bytes, str]]:
    if data is None or not (text or encoding or errs):
        return data
    return data.decode(encoding or "utf-8", errs or "replace")


def _cap_names(mask: int) -> FrozenSet[str]:
    names = set()
    for cap in range(64):
        if mask & (1 << cap):
            name = lib.sbx_capability_name(cap)
            names.add(_s(name) if name else str(cap))
    return frozenset(names)


def _result_from_c(r: int, args: List[Any], captured: bool, out: Optional[bytes] = None,
                   err: Optional[bytes] = None, text: bool = False, encoding: Optional[str] = None,
                   errs: Optional[str] = None) -> "SandboxResult[Any]":
    """Convert (and NOT free) a C result."""
    status_no = lib.sbx_result_status(r)
    status = _s(lib.sbx_status_name(status_no))
    code = lib.sbx_result_exit_code(r)
    sig = lib.sbx_result_signal(r)
    if code >= 0 and sig == 0:
        returncode = code
    else:
        returncode = -sig if sig > 0 else -1
    t1 = t2 = False
    if captured:
        n = ctypes.c_size_t(0)
        p = lib.sbx_result_stdout(r, ctypes.byref(n))
        out = ctypes.string_at(p, n.value) if p and n.value else b""
        p = lib.sbx_result_stderr(r, ctypes.byref(n))
        err = ctypes.string_at(p, n.value) if p and n.value else b""
        t1 = bool(lib.sbx_result_truncated(r, 1))
        t2 = bool(lib.sbx_result_truncated(r, 2))
    count = lib.sbx_result_violation_count(r)
    viols = []
    for i in range(min(count, 64)):
        v = SbxViolation()
        v.size = ctypes.sizeof(SbxViolation)
        try:
            lib.sbx_result_violation(r, i, ctypes.byref(v))
        except _err.SandboxError as e:
            if e.errno == _errno.ERANGE:
                break
            raise
        viols.append(Violation._from_c(v))
    kinds = []
    for i in range(lib.sbx_result_violation_kinds(r)):
        v = SbxViolation()
        v.size = ctypes.sizeof(SbxViolation)
        times = ctypes.c_uint64(0)
        lib.sbx_result_violation_kind(r, i, ctypes.byref(v), ctypes.byref(times))
        kinds.append((Violation._from_c(v), times.value))
    need = lib.sbx_result_to_json(r, None, 0)
    buf = ctypes.create_string_buffer(need + 1)
    lib.sbx_result_to_json(r, buf, need + 1)
    try:
        js = json.loads(buf.value.decode("utf-8", "replace"))
    except ValueError:
        js = {}
    return SandboxResult(
        args=args, returncode=returncode,
        stdout=_decode_out(out, text, encoding, errs), stderr=_decode_out(err, text, encoding, errs),
        status=status, exit_code=code if code >= 0 and sig == 0 else None,
        signal=sig if sig > 0 else None,
        layers=_names(lib.sbx_result_layers(r), LAYERS),
        landlock_abi=lib.sbx_result_landlock_abi(r),
        landlock_rights=_names(lib.sbx_result_landlock_rights(r), LANDLOCK_RIGHTS),
        violations=viols, violation_count=count, violation_kinds=kinds,
        wall_time=lib.sbx_result_wall_ns(r) / 1e9,
        user_cpu_time=lib.sbx_result_user_cpu_ns(r) / 1e9,
        system_cpu_time=lib.sbx_result_system_cpu_ns(r) / 1e9,
        peak_rss=lib.sbx_result_peak_rss_bytes(r),
        peak_memory=lib.sbx_result_peak_memory_bytes(r),
        limits_hit=[k for k, v in (("memory", 1), ("processes", 2)) if lib.sbx_result_limit_hit(r, v)],
        limit_mechanisms={k: _MECHANISMS.get(lib.sbx_result_limit_mechanism(r, v), "unknown")
                          for k, v in (("memory", 1), ("processes", 2), ("cpu_rate", 3),
                                       ("tmp", 4))},
        namespaces=_names(lib.sbx_result_namespaces(r), NAMESPACES),
        isolation_fallback=_fallback(lib.sbx_result_isolation_fallback(r)),
        workdir_note=_fallback(lib.sbx_result_workdir_note(r)),
        prepared_ahead=bool(lib.sbx_result_prepared_ahead(r)),
        tree_kill={1: "pgroup", 2: "cgroup", 3: "pidns", 4: "subreaper"}.get(
            lib.sbx_result_tree_kill(r), "none"),
        capabilities={name: _cap_names(lib.sbx_result_capabilities(r, i))
                      for i, name in enumerate(("effective", "permitted", "inheritable",
                                                "bounding", "ambient"))},
        stdout_truncated=t1, stderr_truncated=t2,
        redactions=lib.sbx_result_redactions(r), escapes=lib.sbx_result_escapes(r),
        violations_dropped=lib.sbx_result_violations_dropped(r),
        violations_benign=lib.sbx_result_violations_benign(r),
        exec_denials=_exec_denials(r), exec_denial_count=lib.sbx_result_exec_denial_count(r),
        capability_calls=lib.sbx_result_capability_calls(r),
        capability_refused=lib.sbx_result_capability_refused(r),
        tool_denial_count=lib.sbx_result_tool_denial_count(r),
        tool_denials=_tool_denials(r),
        overlays=_overlays(r),
        access_denials=_access_denials(r),
        access_denial_count=lib.sbx_result_access_denial_count(r),
        audit_dropped=lib.sbx_result_audit_dropped(r),
        unicode={name: lib.sbx_result_unicode(r, i) for i, name in enumerate(_UNICODE_CLASSES)},
        unicode_tag_text=_tag_text(lib.sbx_result_unicode_tag_text(r)),
        learned_policy=_learned_policy(r), json=js)


def _tool_denials(r: Any) -> List[str]:
    out: List[str] = []
    while True:
        d = lib.sbx_result_tool_denial(r, len(out))
        if d is None:
            return out
        out.append(d.decode("utf-8", "replace"))


def _overlays(r: Any) -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []
    for i in range(lib.sbx_result_overlay_count(r)):
        lower, upper = ctypes.c_char_p(), ctypes.c_char_p()
        lib.sbx_result_overlay(r, i, ctypes.byref(lower), ctypes.byref(upper))
        out.append((os.fsdecode(lower.value or b""), os.fsdecode(upper.value or b"")))
    return out


def _exec_denials(r: Any) -> List["ExecDenial"]:
    out: List[ExecDenial] = []
    for i in range(lib.sbx_result_exec_denials(r)):
        d = SbxExecDenial(size=ctypes.sizeof(SbxExecDenial))
        lib.sbx_result_exec_denial(r, i, ctypes.byref(d))
        out.append(ExecDenial(os.fsdecode(d.path or b""), _s(lib.sbx_exec_denied_name(d.reason)),
                              d.count, d.pid, d.time_ns / 1e9))
    return out


def _learned_policy(r: Any) -> Optional[str]:
    p = c_policy_p()
    if lib.sbx_policy_new(ctypes.byref(p)) < 0:
        raise MemoryError("sbx_policy_new")
    try:
        try:
            lib.sbx_policy_learn(p, r)
        except _err.InvalidArgumentError:
            return None  # learn mode was off
        except _err.SandboxError as e:
            if e.errno != _errno.E2BIG:  # a full record: what it holds is granted
                raise
        n = lib.sbx_policy_to_json(p, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        lib.sbx_policy_to_json(p, buf, n + 1)
        return buf.value.decode("utf-8")
    finally:
        lib.sbx_policy_free(p)


_ACCESS_KINDS = {1: "file", 2: "connect", 3: "bind"}
_ACCESS_RIGHTS = (
    (1 << 0, "read"), (1 << 2, "exec"), (1 << 3, "write_file"), (1 << 4, "truncate"),
    (1 << 5, "create"), (1 << 6, "remove"), (1 << 7, "make_symlink"), (1 << 8, "make_special"),
    (1 << 9, "refer"),
)


def _access_denials(r: Any) -> List["AccessDenial"]:
    out: List[AccessDenial] = []
    for i in range(lib.sbx_result_access_denials(r)):
        d = SbxAccessDenial(size=ctypes.sizeof(SbxAccessDenial))
        lib.sbx_result_access_denial(r, i, ctypes.byref(d))
        out.append(AccessDenial(_ACCESS_KINDS.get(d.kind, "unknown"), _s(d.syscall),
                                os.fsdecode(d.path or b""), os.fsdecode(d.dir or b""),
                                [name for bit, name in _ACCESS_RIGHTS if d.missing & bit],
                                d.port, d.count, d.pid, d.time_ns / 1e9))
    return out


def _tag_text(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("ascii", "replace")


# ---- the policy ----------------------------------------------------------------

_OPTS_ENV_MAX = 256  # sbx_spawn_opts.env's entries at most (check_opts in lib/spawn.c)
_ENV_NAME_MAX = 255  # a variable name's bytes at most (sbx_set_env)


class _Call:
    """One run or spawn of a policy: the C policy it uses (a temporary copy, to
    be freed, when ``temp``) and what goes in its ``sbx_spawn_opts``."""

    __slots__ = ("cpol", "temp", "timeout_effective", "env", "wall_ms")

    def __init__(self) -> None:
        self.cpol = 0
        self.temp = False
        self.timeout_effective = False  # timeout= is the child's wall-clock limit
        self.env: Any = None  # a NULL-terminated char*[] of changes, kept alive here
        self.wall_ms = 0  # 0: the policy's

    def opts(self) -> SbxSpawnOpts:
        o = SbxSpawnOpts()
        o.size = ctypes.sizeof(SbxSpawnOpts)
        if self.env is not None:
            o.env = ctypes.cast(self.env, ctypes.POINTER(ctypes.c_char_p))
        o.wall_ms = self.wall_ms
        return o

    def close(self) -> None:
        if self.temp:
            lib.sbx_policy_free(self.cpol)
            self.temp = False


class Policy(Closing):
    """A sandbox policy: deny by default; each method widens or bounds it.

    Mirrors the C builder (policy.h, seccomp.h).  Every method validates its
    input at once (raising :class:`TypeError`/:class:`ValueError` for Python
    mistakes, :class:`agentsbx.SandboxError` subclasses for what the library
    rejects) and returns the policy, so calls chain::

        with agentsbx.Policy().allow_path("/data", "r").limit(memory="512M") as p:
            r = p.run(["python3", "-c", "print(1)"], capture_output=True, timeout=5)

    The policy is also recorded on the Python side, so that ``run``/``spawn``
    can apply per-call ``cwd``/``env``/``timeout`` to a temporary copy without
    changing the policy (the C API has no clone function).  Two grants are
    read from the host when they are made and kept as made: :meth:`pass_env`
    (the value now) and :meth:`allow_tool` (resolved again when copied, with
    the same PATH).

    Thread-safety as in C: any number of threads may run/spawn from one
    policy at once, but it must not be changed or closed meanwhile.
    """

    def __init__(self) -> None:
        self._ptr: Optional[int] = None
        self._callback: Any = None
        self._capabilities: List[Any] = []  # the handlers' C trampolines, kept alive
        self._wall_ms: int = UNLIMITED
        self._workdir: Optional[str] = None
        h = c_policy_p()
        lib.sbx_policy_new(ctypes.byref(h))
        self._ptr = h.value

    # -- life cycle
    def close(self) -> None:
        """Free the C policy (children already spawned are not affected). Idempotent."""
        p, self._ptr = self._ptr, None
        if p:
            lib.sbx_policy_free(p)

    @property
    def closed(self) -> bool:
        return self._ptr is None


    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed Policy")
        return self._ptr

    def _apply(self, op: str, *args: Any) -> "Policy":
        getattr(lib, op)(self._handle(), *args)
        return self

    def copy(self) -> "Policy":
        """An independent copy of this policy (``sbx_policy_dup``): every setting,
        grant, rule, secret and callback."""
        new = Policy.__new__(Policy)
        new.__dict__.update(self.__dict__)
        new._capabilities = list(self._capabilities)
        h = c_policy_p()
        lib.sbx_policy_dup(self._handle(), ctypes.byref(h))
        new._ptr = h.value
        return new

    def _build(self, overrides: List[Tuple[str, Tuple[Any, ...]]]) -> int:
        """A copy of the C policy (``sbx_policy_dup``), then ``overrides``. Caller frees it.
        The copy serves one spawn: it prepares no sandbox ahead."""
        h = c_policy_p()
        lib.sbx_policy_dup(self._handle(), ctypes.byref(h))
        try:
            lib.sbx_prepare_ahead(h.value, 0)
            for op, args in overrides:
                getattr(lib, op)(h.value, *args)
        except BaseException:
            lib.sbx_policy_free(h.value)
            raise
        return h.value  # type: ignore[return-value]

    # -- working directory and environment
    def set_workdir(self, path: StrPath) -> "Policy":
        """The child's working directory (an absolute path; read and write granted).
        A path that exists and is not a directory raises :class:`PathNotADirectoryError`
        (a :class:`NotADirectoryError`) here; a missing one fails at spawn with
        :class:`PathNotFoundError` (stage workdir)."""
        self._apply("sbx_set_workdir", _dir(_path(path, "workdir"), "sbx_set_workdir"))
        self._workdir = os.fsdecode(path)
        return self

    @property
    def workdir(self) -> Optional[str]:
        """The working directory set with :meth:`set_workdir`, or None (the host's)."""
        return self._workdir

    def set_env(self, name: str, value: str) -> "Policy":
        """Set a variable in the child's environment (which starts as PATH, LANG, HOME only)."""
        return self._apply("sbx_set_env", _name(name), _name(value, "value"))

    def pass_env(self, name: str) -> "Policy":
        """Pass the host's current value of ``name`` through (absent on the host: absent in the child)."""
        lib.sbx_pass_env(self._handle(), _name(name))
        return self

    def unset_env(self, name: str) -> "Policy":
        """Remove a variable from the child's environment (also a default one)."""
        return self._apply("sbx_unset_env", _name(name))

    # -- limits
    def limit(self, *, cpu_time: Optional[float] = None, wall_time: Optional[float] = None,
              memory: Optional[Size] = None, open_files: Optional[int] = None,
              file_size: Optional[Size] = None, processes: Optional[int] = None,
              output: Optional[Size] = None) -> "Policy":
        """Set resource limits; an argument left None is not changed, :data:`UNLIMITED` removes it.

        :param cpu_time: CPU seconds per process (RLIMIT_CPU; rounded up); status ``"cpu_limit"``.
        :param wall_time: wall-clock seconds (float ok); the whole process group is killed,
            status ``"timed_out"`` (no exception: compare ``run(timeout=)``).
        :param memory: bytes per process (RLIMIT_DATA), int or ``"512M"``; allocations fail.
        :param open_files: descriptors per process (RLIMIT_NOFILE).
        :param file_size: largest file written (RLIMIT_FSIZE); status ``"file_size_limit"``.
        :param processes: processes of the child's uid (RLIMIT_NPROC); unenforceable as root
            (:class:`NotSupportedError` at spawn unless ``best_effort("rlimits")``).
        :param output: bytes of each stream kept by a capturing ``run`` (default 4 MiB).
        """
        if cpu_time is not None:
            self._apply("sbx_limit_cpu_time", _seconds(cpu_time, "cpu_time", 1))
        if wall_time is not None:
            ms = _seconds(wall_time, "wall_time", 1000)
            self._apply("sbx_limit_wall_time", ms)
            self._wall_ms = ms
        if memory is not None:
            self._apply("sbx_limit_memory", _sz(memory))
        if open_files is not None:
            self._apply("sbx_limit_open_files", _count(open_files, "open_files"))
        if file_size is not None:
            self._apply("sbx_limit_file_size", _sz(file_size))
        if processes is not None:
            self._apply("sbx_limit_processes", _count(processes, "processes"))
        if output is not None:
            self._apply("sbx_limit_output", _sz(output))
        return self

    def best_effort(self, *layers: str) -> "Policy":
        """Mark layers best-effort by name (replaces the earlier set; none: all strict).

        Names: see :data:`LAYERS` ("landlock", "seccomp", "rlimits", "monitor", ...).
        """
        mask = 0
        for name in layers:
            if not isinstance(name, str):
                raise TypeError(f"layer names must be str, not {type(name).__name__}")
            if name not in LAYERS:
                raise ValueError(f"unknown layer {name!r}; known: {', '.join(sorted(LAYERS))}")
            mask |= LAYERS[name]
        return self._apply("sbx_set_best_effort", mask)

    def die_with_parent(self, on: bool = True) -> "Policy":
        """Kill the child when the *thread* that spawned it exits (default on)."""
        return self._apply("sbx_set_die_with_parent", int(bool(on)))

    def prepare_ahead(self, on: Union[bool, str] = True) -> "Policy":
        """Keep a sandbox of this policy prepared for its next spawn: ``True`` after
        every spawn, ``False`` never, ``"auto"`` (the default) after a spawn that runs
        the same program as the one before it.  The next child's namespaces, view,
        init and confinement are set up (once the child just spawned ends, 100 ms
        after it started, or when the next spawn asks, whichever is first), and the
        next spawn of the same program from the same working directory (from any
        thread) only starts it, also with its own ``env=`` and ``timeout=``; a
        ``cwd=`` or ``pass_fds`` spawns as usual.  ``SandboxResult.prepared_ahead``
        says which took one.  Between spawns such a policy keeps two processes;
        closing the policy ends them. See ``sbx_prepare_ahead`` and
        docs/performance.md."""
        if on == "auto":
            return self._apply("sbx_prepare_ahead", 2)
        if not isinstance(on, bool):
            raise ValueError(f"prepare_ahead: True, False or 'auto', not {on!r}")
        return self._apply("sbx_prepare_ahead", int(on))

    # -- cgroups (cgroup.h)
    def use_cgroup(self, on: bool = True) -> "Policy":
        """Put each child in cgroups of its own beneath this process's cgroups:
        memory and process limits then bind every process (root too), the peak
        memory is exact and the kill reaches everything.  :class:`NotSupportedError`
        at spawn when it cannot be set up, unless ``best_effort("cgroup")``."""
        return self._apply("sbx_use_cgroup", int(bool(on)))

    def cgroup_parent(self, path: Optional[StrPath]) -> "Policy":
        """Name a delegated cgroup directory under which children get their cgroups
        (turns the layer on; up to 4, one per hierarchy); None forgets them all."""
        return self._apply("sbx_set_cgroup_parent", None if path is None else _path(path))

    def limit_cpu_rate(self, cpus: float) -> "Policy":
        """Limit the CPU bandwidth of the whole child, all its processes together,
        in CPUs: 0.5 is half a CPU, 2 two CPUs (at least 0.01); :data:`UNLIMITED`
        removes the limit.  Enforced by the cgroup only (``cpu.max`` or
        ``cpu.cfs_quota_us``): it needs :meth:`use_cgroup` or :meth:`cgroup_parent`,
        else spawning raises :class:`InvalidArgumentError`, unless
        ``best_effort("cgroup")`` (then ``limit_mechanisms["cpu_rate"] == "none"``)."""
        if cpus == UNLIMITED:
            return self._apply("sbx_limit_cpu_rate", UNLIMITED)
        if isinstance(cpus, bool) or not isinstance(cpus, (int, float)):
            raise TypeError(f"cpus must be a number, not {type(cpus).__name__}")
        if not math.isfinite(cpus) or cpus <= 0:
            raise ValueError(f"cpus must be a positive number, got {cpus!r}")
        # To millicpus, rounded up (0.0001 must not become "no CPU at all");
        # the library checks the range.
        return self._apply("sbx_limit_cpu_rate", min(math.ceil(cpus * 1000 - 1e-9), 1 << 62))

    # -- namespaces (namespace.h)
    def unshare(self, *names: str) -> "Policy":
        """Run each child in new namespaces: any of ``"user"``, ``"pid"``, ``"net"``,
        ``"ipc"``, ``"uts"``, ``"mount"``, or ``"all"``; none turns the layer off.
        Without root, ``"user"`` is added.  :class:`InvalidArgumentError` for an
        unknown name; at spawn, an error saying why when the host refuses."""
        mask = ctypes.c_uint32(0)
        if names:
            lib.sbx_parse_namespaces(",".join(names).encode(), ctypes.byref(mask))
        return self._apply("sbx_unshare", mask.value)

    def isolation(self, mode: str) -> "Policy":
        """How much isolation each child gets (docs/namespaces.md):

        - ``"auto"`` (the default): user (when not root), pid, mount (the view of
          the file system: grants only, private ``/tmp``, ``/dev/shm``, ``/proc``,
          a minimal ``/dev``), ipc, uts and cgroup namespaces where the host allows
          them; where it does not, Landlock and seccomp alone, and
          :attr:`SandboxResult.isolation_fallback` says why.
        - ``"full"``: the same and a network namespace when no network is granted;
          a host that refuses them fails the spawn.
        - ``"minimal"``: no namespaces unless :meth:`unshare` asks for some.

        :class:`InvalidArgumentError` for another name."""
        if not isinstance(mode, str):
            raise TypeError(f"isolation must be 'auto', 'minimal' or 'full', not {type(mode).__name__}")
        if mode not in ISOLATION:
            raise ValueError(f"isolation must be 'auto', 'minimal' or 'full', not {mode!r}")
        return self._apply("sbx_set_isolation", ISOLATION[mode])

    def get_isolation(self) -> str:
        """The isolation mode: ``"auto"``, ``"minimal"`` or ``"full"``."""
        return _s(lib.sbx_isolation_name(lib.sbx_policy_isolation(self._handle())))

    def subreaper(self, on: bool = True) -> "Policy":
        """Kill the whole tree of each spawned child through the library's init as a
        child subreaper when no pid namespace or cgroup does (``run`` always does;
        costs an ``execve`` of the small init per spawn)."""
        return self._apply("sbx_set_subreaper", 1 if on else 0)

    # -- capabilities (capability.h)
    def keep_capability(self, *names: str) -> "Policy":
        """Keep these capabilities in the child (names as capabilities(7) spells them,
        with or without ``CAP_``, any case); every other one is dropped, as by default.
        :class:`InvalidArgumentError` for an unknown name; at spawn, a
        :class:`SandboxError` (EPERM) when the host does not hold one."""
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"a capability name must be a str, not {type(name).__name__}")
            self._apply("sbx_keep_capability", name.encode())
        return self

    # -- filesystem and network (Landlock)
    def allow_path(self, path: StrPath, access: str = "r", *, optional: bool = False) -> "Policy":
        """Grant access beneath an absolute path: ``access`` is a string of ``r``
        (read), ``w`` (write), ``x`` (execute).  The path must exist
        (:class:`PathNotFoundError`) unless ``optional``; a relative path raises
        :class:`InvalidArgumentError` (a ValueError)."""
        bits = _access(access) | (_FS_OPTIONAL if optional else 0)
        return self._apply("sbx_allow_path", _path(path), bits)

    def deny_path(self, path: StrPath, access: str = "r") -> "Policy":
        """Deny an absolute path beneath the grants, whatever grant covers it
        (the default view and the workdir included; it need not exist):
        ``access`` ``"r"`` hides it, ``"w"`` makes it read-only (``"rw"``: both,
        the same as ``"r"``).  A path that is relative or not normalised raises
        :class:`InvalidArgumentError`; what cannot be enforced without the mount
        namespace's view fails the run (EOPNOTSUPP).  See docs/carve-outs.md."""
        if not isinstance(access, str) or not access or set(access) - set("rw"):
            raise _err.InvalidArgumentError(
                _errno.EINVAL, f"deny_path: access must be 'r', 'w' or 'rw', not {access!r}",
                function="sbx_deny_path")
        return self._apply("sbx_deny_path", _path(path), _access(access))

    def bind(self, src: StrPath, dest: StrPath, access: str = "r") -> "Policy":
        """Show the host's ``src`` at ``dest`` in the child's view (``access``: a
        string of ``r``, ``w``, ``x``).  Needs the mount namespace's view: without it
        the run raises :class:`NotSupportedError`."""
        return self._apply("sbx_bind", _path(src), _path(dest, "dest"), _access(access))

    def overlay(self, lower: StrPath, upper: Optional[StrPath] = None) -> "Policy":
        """Show the directory ``lower`` writable to the child while its changes land in
        ``upper`` (empty or absent at each run; ``None``: a private one per run, named
        in :attr:`SandboxResult.overlays`); ``lower`` itself is untouched.  Needs the
        mount namespace's view: without it the run raises :class:`NotSupportedError`.
        See docs/carve-outs.md, "Overlay workspaces"."""
        return self._apply("sbx_overlay", _path(lower, "lower"),
                           None if upper is None else _path(upper, "upper"))

    def tmpfs(self, path: StrPath, size: int = 0) -> "Policy":
        """An empty writable tmpfs of at most ``size`` bytes (0: the memory limit) at
        ``path`` in the child's view (needs the view, as :meth:`bind`)."""
        return self._apply("sbx_tmpfs", _path(path), int(size))

    def protect_path(self, name: str) -> "Policy":
        """Add ``name`` (relative, such as ``".env"``) to the protected list: read-only
        inside every write grant and the workdir.  See docs/carve-outs.md."""
        return self._apply("sbx_protect_path", _name(name))

    def unprotect(self, name: str) -> "Policy":
        """Remove ``name`` from the protected list (a default name such as
        ``".git/config"``, or one added); :class:`SandboxError` (ENOENT) if not listed."""
        return self._apply("sbx_unprotect", _name(name))

    @property
    def protected(self) -> List[str]:
        """The effective protected list."""
        out: List[str] = []
        name = ctypes.c_char_p()
        while len(out) < 1 << 16:
            try:
                lib.sbx_policy_protected(self._handle(), len(out), ctypes.byref(name))
            except _err.SandboxError as e:
                if e.errno == _errno.ERANGE:
                    break
                raise
            out.append(os.fsdecode(name.value or b""))
        return out

    @property
    def denied(self) -> List[Tuple[str, str]]:
        """The paths denied with :meth:`deny_path`, as ``(path, access)`` pairs
        (``access``: ``"r"``, ``"w"`` or ``"rw"``)."""
        out: List[Tuple[str, str]] = []
        path, access = ctypes.c_char_p(), ctypes.c_uint64()
        for i in range(lib.sbx_policy_denied_count(self._handle())):
            lib.sbx_policy_denied(self._handle(), i, ctypes.byref(path), ctypes.byref(access))
            bits = ("r" if access.value & _FS_READ else "") + ("w" if access.value & _FS_WRITE else "")
            out.append((os.fsdecode(path.value or b""), bits))
        return out

    def allow_unix_socket(self, path: StrPath) -> "Policy":
        """Let the child connect to the host's unix socket ``path`` (bound into the
        mount namespace's view: needs ``unshare("mount")``, else the run fails).
        By default no host unix socket is reachable."""
        return self._apply("sbx_allow_unix_socket", _path(path))

    def allow_tool(self, name: StrPath) -> "Policy":
        """Allow executing a program (a name resolved in the child's PATH now, or an absolute path)."""
        return self._apply("sbx_allow_tool", _path(name, "tool"))

    def allow_tool_args(self, name: StrPath, allow: Sequence[str],
                        deny: Optional[Sequence[str]] = None) -> "Policy":
        """Let the child run a tool only with arguments that match ``allow`` and hit
        nothing of ``deny`` (``sbx_allow_tool_args``): the tool runs through the host,
        never directly, e.g. ``allow_tool_args("git", ["status *", "log *", "commit -m *"],
        ["-c", "core.hooksPath"])``.  See docs/capabilities.md for the pattern rules."""
        for what, v in (("allow", allow), ("deny", deny or [])):
            if isinstance(v, (str, bytes)) or not all(isinstance(x, str) for x in v):
                raise TypeError(f"{what} must be a sequence of str")
        a = (ctypes.c_char_p * (len(allow) + 1))(*[x.encode() for x in allow], None)
        d = (ctypes.c_char_p * (len(deny or []) + 1))(*[x.encode() for x in (deny or [])], None)
        return self._apply("sbx_allow_tool_args", _path(name, "tool"), a, d)
    def exec_mode(self, mode: str) -> "Policy":
        """What the child may execute (``sbx_set_exec_mode``, docs/landlock.md):

        - ``"allowlist"`` (the default): the program, the interpreters it needs,
          :meth:`allow_tool` tools and paths granted ``"x"``.
        - ``"system"``: also anything beneath /usr, /bin, /sbin and /lib*, and
          still nothing the child can write. Weaker than the allow-list; a write
          grant or workdir overlapping a system directory makes the run fail
          with :class:`InvalidArgumentError`."""
        if not isinstance(mode, str):
            raise TypeError(f"exec mode must be 'allowlist' or 'system', not {type(mode).__name__}")
        if mode not in EXEC_MODES:
            raise ValueError(f"exec mode must be 'allowlist' or 'system', not {mode!r}")
        return self._apply("sbx_set_exec_mode", EXEC_MODES[mode])

    def get_exec_mode(self) -> str:
        """The exec mode: ``"allowlist"`` or ``"system"``."""
        return _s(lib.sbx_exec_mode_name(lib.sbx_policy_exec_mode(self._handle())))

    def allow_connect(self, port: int) -> "Policy":
        """Allow outgoing TCP connections to ``port`` (1-65535)."""
        return self._apply("sbx_allow_connect", _int(port, "port"))

    def allow_bind(self, port: int) -> "Policy":
        """Allow binding TCP ``port`` (0-65535; 0 = ephemeral)."""
        return self._apply("sbx_allow_bind", _int(port, "port"))

    def allow_network(self) -> "Policy":
        """Lift every network restriction."""
        return self._apply("sbx_allow_network")

    def allow_host(self, pattern: str) -> "Policy":
        """Let the child reach a host through the egress broker (``sbx_allow_host``):
        ``"pypi.org"``, ``"*.example.com"`` (names below, not the bare one),
        ``"api.example.com:8443"``, or an IP literal; without a port, 80 and 443.
        The child then runs with ``HTTP_PROXY`` and friends pointing at its broker
        and can open no other TCP connection (docs/network.md)."""
        return self._apply("sbx_allow_host", _name(pattern, "pattern"))

    def deny_host(self, pattern: str) -> "Policy":
        """Refuse a host whatever the grants say (``sbx_deny_host``)."""
        return self._apply("sbx_deny_host", _name(pattern, "pattern"))

    def broker_resolve(self, name: str, address: str) -> "Policy":
        """Pin the broker's resolution of ``name`` to ``address`` (``sbx_broker_resolve``)."""
        return self._apply("sbx_broker_resolve", _name(name, "name"), _name(address, "address"))

    def private_tmp(self, on: bool = True) -> "Policy":
        """Give each child a private TMPDIR, removed after it ends (default on)."""
        return self._apply("sbx_set_private_tmp", int(bool(on)))

    def tmp_parent(self, path: StrPath) -> "Policy":
        """Where private TMPDIRs are created (an existing absolute directory)."""
        return self._apply("sbx_set_tmp_parent", _path(path))

    # -- system calls (seccomp.h)
    def deny_syscall(self, name: str, errno: int = _errno.EPERM) -> "Policy":
        """Deny a system call: it fails with ``errno`` (reported as a violation),
        or kills the caller with SIGSYS when ``errno`` is :data:`KILL`."""
        return self._apply("sbx_deny_syscall", _name(name), _int(errno, "errno"))

    def allow_syscall(self, name: str) -> "Policy":
        """Allow a system call (adds to the allow-list, or lifts a deny-table entry)."""
        return self._apply("sbx_allow_syscall", _name(name))

    def syscall_allowlist(self, on: bool = True) -> "Policy":
        """Allow-list mode: only the base set and :meth:`allow_syscall` calls."""
        return self._apply("sbx_set_syscall_allowlist", int(bool(on)))

    def violation_monitor(self, on: bool = True) -> "Policy":
        """Report denied calls to the host (default on)."""
        return self._apply("sbx_set_violation_monitor", int(bool(on)))

    def violation_limit(self, count: int) -> "Policy":
        """Kill a child at its ``count``-th violation (status ``"violation"``)."""
        return self._apply("sbx_set_violation_limit", _count(count, "count"))

    def exec_reporting(self, on: bool = True) -> "Policy":
        """Report the execs the sandbox denies (:attr:`SandboxResult.exec_denials`):
        every exec of the child then waits for the host (``run`` and ``wait`` serve
        it), which tells whether Landlock or a ``noexec`` mount will refuse it; the
        kernel still decides.  Off by default (``sbx_set_exec_reporting``)."""
        return self._apply("sbx_set_exec_reporting", 1 if on else 0)

    def diagnose(self, on: bool = True) -> "Policy":
        """Diagnose mode: report the file opens, connects and binds Landlock denies
        (:attr:`SandboxResult.access_denials`): each such call of the child then waits
        for the host (``run`` and ``wait`` serve it), which tells whether Landlock
        will refuse it; Landlock still decides.  Off by default (``sbx_set_diagnose``)."""
        return self._apply("sbx_set_diagnose", 1 if on else 0)

    def learn(self, on: bool = True) -> "Policy":
        """Learn mode: record what the child does (implies :meth:`diagnose` and
        :meth:`exec_reporting`), and put the policy file that would have allowed it in
        :attr:`SandboxResult.learned_policy`.  It grants nothing itself: run under a
        policy wide enough, without the mount view (``isolation("minimal")``)
        (``sbx_set_learn``, ``sbx_policy_learn``)."""
        return self._apply("sbx_set_learn", 1 if on else 0)

    def violation_rate(self, per_second: int) -> "Policy":
        """Kill a child that makes more than ``per_second`` denied calls within a
        second (status ``"violation"``); 0 turns the limit off.  The default is
        1000 per second, so a child looping on a denied call cannot make the
        host spend its CPU on reporting it."""
        return self._apply("sbx_set_violation_rate", _count(per_second, "per_second"))

    def on_violation(self, fn: Optional[Callable[[Violation], None]]) -> "Policy":
        """Call ``fn(violation)`` for each violation, on the thread waiting for
        the child (None removes it).  Exceptions in ``fn`` are printed and ignored."""
        if fn is not None and not callable(fn):
            raise TypeError("on_violation needs a callable or None")
        cb: Any
        if fn is None:
            cb = ctypes.cast(0, VIOLATION_FN)
        else:
            call = fn

            def trampoline(v: Any, _ud: Any) -> None:
                call(Violation._from_c(v.contents))
            cb = VIOLATION_FN(trampoline)
        self._apply("sbx_set_violation_callback", cb, None)
        self._callback = cb if fn is not None else None
        return self

    # -- host operations the child may call (capchan.h)
    def capability(self, name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """A decorator: let the child call operation ``name``, served by the decorated
        function in this process (``sbx_allow_capability``)::

            @policy.capability("fetch_issue")
            def fetch_issue(args):          # args: the child's JSON arguments, decoded
                return {"number": args, "title": api.get(args)["title"]}

        The child calls it over ``SBX_CAPS_FD`` (``agentsbx.capclient.call("fetch_issue", 7)``,
        ``agentsbx call fetch_issue 7``, or ``agentsbx/capclient.h``).  The function runs on
        the thread that waits for the child, one call at a time; its return value, encoded
        as JSON, is the result.  Raise :class:`agentsbx.CallFailed` to fail the call with a
        message for the child; any other exception fails it with "the operation failed"
        (its details stay in the host: they are printed on stderr)."""
        if not isinstance(name, str):
            raise TypeError("capability name must be a str")

        def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
            if not callable(fn):
                raise TypeError("capability needs a callable")

            def trampoline(call: Any, _ud: Any) -> int:
                return _serve_call(fn, call)
            cb = CAPABILITY_FN(trampoline)
            self._apply("sbx_allow_capability", name.encode(), cb, None)
            self._capabilities.append(cb)
            return fn
        return register

    def limit_capability_calls(self, calls: int) -> "Policy":
        """How many calls each child may make (answered or refused); the default is 10000
        (``sbx_limit_capability_calls``; ``UNLIMITED`` for none)."""
        return self._apply("sbx_limit_capability_calls", _count(calls, "calls"))

    def limit_capability_request(self, size: Union[int, str]) -> "Policy":
        """The largest request a child may send, 64 bytes to 16 MiB (default 64 KiB;
        ``sbx_limit_capability_request``); a larger one closes the channel."""
        return self._apply("sbx_limit_capability_request", parse_size(size))

    # -- output filter and audit log (output.h)
    def redact(self, value: Union[str, bytes]) -> "Policy":
        """Register a secret: every occurrence in the child's captured output
        (and in the audit log) becomes ``[REDACTED]``.  4 to 4096 bytes (a str is
        encoded as UTF-8); at most 256 values.  Never written by :meth:`to_json`."""
        if isinstance(value, str):
            b = value.encode("utf-8")
        elif isinstance(value, (bytes, bytearray)):
            b = bytes(value)
        else:
            raise TypeError(f"value must be str or bytes, not {type(value).__name__}")
        if b"\0" in b:
            raise ValueError("value contains a NUL byte")
        return self._apply("sbx_redact_value", b)

    def redact_patterns(self, on: bool = True) -> "Policy":
        """Redact well-known credential shapes (cloud keys, tokens, private keys...;
        default on).  Registered values (:meth:`redact`) are redacted either way."""
        return self._apply("sbx_set_redact_patterns", int(bool(on)))

    def escape_output(self, mode: str) -> "Policy":
        """What the output filter does with terminal control characters:
        ``"keep"`` (the default: bytes pass unchanged) or ``"neutralise"``
        (written as visible text, ``\\x1b``; the output is then valid UTF-8)."""
        if not isinstance(mode, str):
            raise TypeError(f"mode must be 'keep' or 'neutralise', not {type(mode).__name__}")
        if mode not in _ESCAPE_MODES:
            raise ValueError(f"mode must be 'keep' or 'neutralise', not {mode!r}")
        return self._apply("sbx_set_output_escapes", _ESCAPE_MODES[mode])

    def output(self, *, unicode: Optional[Mapping[str, str]] = None) -> "Policy":
        """Output filter settings.  ``unicode``: the action of each Unicode class
        (``sbx_set_output_unicode``), ``{"tags" | "bidi" | "invisible" |
        "invalid_utf8": "keep" | "strip" | "escape" | "replace"}``; classes not named
        keep their setting (default ``"keep"``, counted).  See
        docs/output-and-audit.md."""
        if unicode is None:
            return self
        if not isinstance(unicode, Mapping):
            raise TypeError(f"unicode must be a mapping, not {type(unicode).__name__}")
        calls = []
        for cls, action in unicode.items():
            if cls not in _UNICODE_CLASSES:
                raise ValueError(f"unknown Unicode class {cls!r} (expected one of: "
                                 f"{', '.join(_UNICODE_CLASSES)})")
            if not isinstance(action, str) or action not in _UNICODE_ACTIONS:
                raise ValueError(f"unicode[{cls!r}] must be one of: "
                                 f"{', '.join(_UNICODE_ACTIONS)}, not {action!r}")
            calls.append((_UNICODE_CLASSES.index(cls), _UNICODE_ACTIONS.index(action)))
        for cls_n, action_n in calls:  # all checked first: nothing is half applied
            self._apply("sbx_set_output_unicode", cls_n, action_n)
        return self

    def audit_fd(self, fd: Any) -> "Policy":
        """Write audit events (JSON lines) to a descriptor, or an object with
        ``fileno()``; None stops.  The descriptor is not duplicated: keep it
        open while children of this policy run."""
        if fd is None:
            n = -1
        elif hasattr(fd, "fileno") and not isinstance(fd, int):
            n = fd.fileno()
        else:
            n = _int(fd, "fd")
        return self._apply("sbx_set_audit_fd", n)

    def audit_limit(self, nbytes: int) -> "Policy":
        """Bound the audit log each child produces (default 1 MiB; at least 4096,
        or :data:`UNLIMITED`).  Past it, events are counted and the exit event
        says how many were dropped; violations are written only for the first 8
        of each kind either way."""
        return self._apply("sbx_set_audit_limit", _count(nbytes, "nbytes"))

    # -- policy files and profiles (policy_json.h)
    def load_json(self, text: Union[str, bytes]) -> "Policy":
        """Apply a JSON policy document (schema version 1, docs/policy-files.md)
        on top of this policy, all or nothing.  A document that does not follow
        the schema raises :class:`InvalidArgumentError` whose message names the
        JSON path (``$.limits.memory: expected a size, got -5``)."""
        if isinstance(text, str):
            b = text.encode("utf-8")
        elif isinstance(text, (bytes, bytearray)):
            b = bytes(text)
        else:
            raise TypeError(f"text must be str or bytes, not {type(text).__name__}")
        if b"\0" in b:
            raise ValueError("text contains a NUL byte")
        lib.sbx_policy_load_json(self._handle(), b)
        self._loaded()
        return self

    def load_file(self, path: StrPath) -> "Policy":
        """Apply a JSON policy file (at most 1 MiB), as :meth:`load_json`; messages
        start with the file's name."""
        p = _path(path)
        lib.sbx_policy_load_file(self._handle(), p)
        self._loaded()
        return self

    def apply_profile(self, name: str) -> "Policy":
        """Apply a built-in profile (:func:`profiles`: ``"minimal"``,
        ``"workspace"``, ``"networked"``); an unknown name raises
        :class:`InvalidArgumentError` listing the known ones."""
        n = _name(name, "profile name")
        lib.sbx_policy_apply_profile(self._handle(), n)
        self._loaded()
        return self

    def to_json(self) -> str:
        """The policy as a JSON document (``sbx_policy_to_json``): only what
        differs from a new policy.  Values registered with :meth:`redact` are
        never written; callbacks and the audit descriptor neither."""
        h = self._handle()
        n = lib.sbx_policy_to_json(h, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        lib.sbx_policy_to_json(h, buf, n + 1)
        return buf.value.decode("utf-8")

    def _loaded(self) -> None:
        """A document or profile was just applied: refresh what Python keeps of it."""
        try:
            doc = json.loads(self.to_json())
        except (_err.SandboxError, ValueError):
            return  # a string that is not UTF-8: the C policy has it all the same
        self._workdir = doc.get("workdir")
        self._wall_ms = _duration_ms(doc.get("limits", {}).get("wall", "unlimited"))

    # -- running
    def _policy_for(self, cwd: Optional[StrPath], env: Optional[Mapping[str, Optional[str]]],
                    timeout: Optional[float]) -> "_Call":
        """How one call runs.  env= and timeout= go in the spawn's options
        (``sbx_spawn_opts``), so the policy itself serves (and its sandbox
        prepared ahead with it); cwd= needs a grant, so it runs under a copy of
        the policy, as do variables the options cannot carry (the copy then
        reports them as ``sbx_set_env`` would)."""
        call = _Call()
        over: List[Tuple[str, Tuple[Any, ...]]] = []
        if cwd is not None:
            over.append(("sbx_set_workdir", (_dir(_path(os.path.abspath(os.fspath(cwd)), "cwd"),
                                                  "sbx_set_workdir"),)))
        if env is not None:
            if not isinstance(env, Mapping):
                raise TypeError(f"env must be a mapping, not {type(env).__name__}")
            changes: List[Tuple[bytes, Optional[bytes]]] = []
            for k, v in env.items():
                changes.append((_name(k, "env name"), None if v is None else _name(v, "env value")))
            if len(changes) <= _OPTS_ENV_MAX and all(
                    0 < len(k) <= _ENV_NAME_MAX and b"=" not in k for k, _ in changes):
                entries = [k if v is None else k + b"=" + v for k, v in changes]
                call.env = (ctypes.c_char_p * (len(entries) + 1))(*entries, None)
            else:
                for name, value in changes:
                    over.append(("sbx_unset_env", (name,)) if value is None
                                else ("sbx_set_env", (name, value)))
        if timeout is not None:
            ms = _seconds(timeout, "timeout", 1000)
            if ms <= self._wall_ms:
                call.wall_ms = ms
                call.timeout_effective = True
        if over:
            self._handle()
            call.cpol, call.temp = self._build(over), True
        else:
            call.cpol = self._handle()
        return call

    @overload
    def run(self, args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
                timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
                env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Literal[True],
                encoding: Optional[str] = ..., errors: Optional[str] = ...) -> "SandboxResult[str]": ...
    @overload
    def run(self, args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
                timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
                env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Optional[bool] = ...,
                encoding: str, errors: Optional[str] = ...) -> "SandboxResult[str]": ...
    @overload
    def run(self, args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
                timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
                env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Optional[bool] = ...,
                encoding: Optional[str] = ..., errors: str) -> "SandboxResult[str]": ...
    @overload
    def run(self, args: _Args, *, input: Optional[bytes] = ..., capture_output: bool = ...,
                timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
                env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
                text: Literal[False, None] = ..., encoding: None = ..., errors: None = ...) -> "SandboxResult[bytes]": ...
    @overload
    def run(self, args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
                timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
                env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Optional[bool] = ...,
                encoding: Optional[str] = ..., errors: Optional[str] = ...) -> "SandboxResult[Any]": ...

    def run(self, args: _Args, *, input: Optional[Union[bytes, str]] = None,
            capture_output: bool = False, timeout: Optional[float] = None,
            cwd: Optional[StrPath] = None, env: Optional[Mapping[str, Optional[str]]] = None,
            check: bool = False, text: Optional[bool] = False, encoding: Optional[str] = None,
            errors: Optional[str] = None) -> "SandboxResult[Any]":
        """Run ``args`` confined and wait: the counterpart of :func:`subprocess.run`.

        :param args: the program and its arguments; a bare name is searched in
            the *child's* PATH.
        :param input: bytes (str with ``text``) for stdin.  Without it, stdin is
            /dev/null when capturing, and inherited otherwise.
        :param capture_output: capture stdout/stderr (bounded by ``limit(output=)``;
            ``stdout_truncated`` says when output was dropped); otherwise the child
            writes to the host's stdout/stderr.
        :param timeout: seconds; becomes the wall-clock limit for this call (the
            smaller of it and the policy's).  When it fires the library kills the
            child's whole process group and :class:`agentsbx.TimeoutExpired` is
            raised, carrying ``result``, ``stdout`` and ``stderr`` (unlike
            :mod:`subprocess`, the child is already dead and reaped).
        :param cwd: working directory for this call (relative to the host's cwd);
            granted read/write like :meth:`set_workdir`.
        :param env: variables set for this call on top of the policy's clean
            environment (a value None removes one); the host's environment is
            never inherited.
        :param check: raise :class:`SandboxProcessError` (a
            :class:`subprocess.CalledProcessError`) if ``returncode != 0``.
        :param text: decode stdout/stderr (UTF-8, ``errors="replace"`` unless
            ``encoding``/``errors`` say otherwise) and encode a str ``input``.
        :raises SandboxError: the sandbox could not be set up (the child never ran).
        """
        argl, argv = _argv(args)
        data = _input(input, bool(text), encoding)
        call = self._policy_for(cwd, env, timeout)
        try:
            if capture_output:
                r = c_result_p()
                opts = call.opts()
                buf = None
                if data is not None:
                    buf = ctypes.create_string_buffer(data, len(data) or 1)
                    opts.input = ctypes.cast(buf, ctypes.c_void_p)
                    opts.input_len = len(data)
                lib.sbx_run_with(call.cpol, argv, ctypes.byref(opts), ctypes.byref(r))
                try:
                    res = _result_from_c(r.value or 0, argl, True, text=bool(text), encoding=encoding,
                                         errs=errors)
                finally:
                    lib.sbx_result_free(r.value)
            else:
                child = Child._spawn(self, call, argl, argv, stdin=PIPE if data is not None else None,
                                     stdout=None, stderr=None, pass_fds=())
                with child:
                    if data is not None:
                        child.communicate(data)
                    child.wait()
                    assert child.result is not None
                    res = child.result
        finally:
            call.close()
        if call.timeout_effective and res.status == "timed_out":
            raise _err.TimeoutExpired(argl, timeout, res.stdout, res.stderr, result=res)  # type: ignore[arg-type]
        if check:
            res.check_returncode()
        return res

    async def spawn_async(self, args: Union[Sequence[StrPath], StrPath], *, stdin: Any = None,
                          stdout: Any = None, stderr: Any = None, input: Optional[bytes] = None,
                          on_output: Optional[Callable[[int, bytes], None]] = None,
                          cwd: Optional[StrPath] = None, env: Optional[Mapping[str, Optional[str]]] = None,
                          timeout: Optional[float] = None, limit: int = 2**16) -> "AsyncChild":
        """Start a confined child driven by the running event loop and return it
        at once (like :func:`asyncio.create_subprocess_exec`): an
        :class:`agentsbx.AsyncChild`.

        ``stdout``/``stderr`` = :data:`PIPE` give :class:`asyncio.StreamReader` objects
        (buffer ``limit``) of the child's output after the policy's output filter
        (secrets redacted, escapes neutralised as the policy says); ``stdin`` =
        :data:`PIPE` an :class:`asyncio.StreamWriter`; ``input``: bytes the library
        writes to stdin, then end of file; stdin is /dev/null otherwise.
        ``on_output(stream, data)`` is called on the loop with each filtered chunk
        of the piped streams; with it, a stream left None is piped to it rather
        than inherited.  ``cwd``/``env``/``timeout`` as for :meth:`spawn` (a
        timeout ends the child with status ``"timed_out"``, no exception).
        """
        from ._aio import spawn_async
        return await spawn_async(self, args, stdin=stdin, stdout=stdout, stderr=stderr, input=input,
                                 on_output=on_output, cwd=cwd, env=env, timeout=timeout, limit=limit)

    def spawn(self, args: Union[Sequence[StrPath], StrPath], *, stdin: Any = None, stdout: Any = None,
              stderr: Any = None, pass_fds: Iterable[int] = (), cwd: Optional[StrPath] = None,
              env: Optional[Mapping[str, Optional[str]]] = None,
              timeout: Optional[float] = None) -> "Child":
        """Start a confined child and return it without waiting (like :class:`subprocess.Popen`).

        ``stdin``/``stdout``/``stderr``: None (inherit the host's), :data:`PIPE`,
        :data:`DEVNULL`, a descriptor or an object with ``fileno()``.
        ``pass_fds``: host descriptors kept open at the same numbers.
        ``timeout``: a wall-clock limit for this child (status ``"timed_out"``,
        enforced while you ``wait``/``poll``/``communicate``).  ``cwd``/``env``
        as for :meth:`run`.

        The child is killed when the *thread* that spawned it exits (see
        :meth:`die_with_parent`) and when the :class:`Child` is closed or
        garbage-collected.  While it runs, keep calling ``wait``/``poll`` (or
        ``communicate``): denied system calls wait for the host to answer them.
        """
        argl, argv = _argv(args)
        call = self._policy_for(cwd, env, timeout)
        try:
            return Child._spawn(self, call, argl, argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                pass_fds=pass_fds)
        finally:
            call.close()


_ESCAPE_MODES = {"keep": 0, "neutralise": 1}  # enum sbx_escapes (output.h)
# enum sbx_unicode_class and enum sbx_unicode_action (output.h), in value order
_UNICODE_CLASSES = ("tags", "bidi", "invisible", "invalid_utf8")
_UNICODE_ACTIONS = ("keep", "strip", "escape", "replace")
def _duration_ms(v: Any) -> int:
    """A duration as sbx_policy_to_json writes it ("30s", "250ms", "unlimited")."""
    if v == "unlimited":
        return UNLIMITED
    if isinstance(v, int):
        return v
    return int(v[:-2]) if v.endswith("ms") else int(v[:-1]) * 1000


def _sz(v: Size) -> int:
    return UNLIMITED if v == UNLIMITED else parse_size(v)


class CallFailed(Exception):
    """Raised by a :meth:`Policy.capability` handler: the call fails, and the child gets
    ``str(exception)`` as the reason (at most 1024 bytes)."""


def _serve_call(fn: Callable[[Any], Any], call: Any) -> int:
    """Run one handler for a call of the child: 0, or a negative errno (the failure)."""
    import sys
    import traceback
    n = ctypes.c_size_t(0)
    ptr = lib.sbx_call_args(call, ctypes.byref(n))
    try:
        args = json.loads(ctypes.string_at(ptr, n.value)) if ptr else None
        out = json.dumps(fn(args), separators=(",", ":"), allow_nan=False).encode()
    except CallFailed as e:
        lib.sbx_call_fail(call, str(e).encode("utf-8", "replace")[:1024])
        return -_errno.EPERM
    except BaseException:  # noqa: BLE001 - the details stay in the host
        traceback.print_exc(file=sys.stderr)
        lib.sbx_call_fail(call, b"the operation failed")
        return -_errno.EIO
    if lib.sbx_call_reply(call, out, len(out)) != 0:
        lib.sbx_call_fail(call, b"the operation's result is too large")
        return -_errno.E2BIG
    return 0


def _count(v: Any, what: str) -> int:
    n = _int(v, what)
    if n < 0:
        raise ValueError(f"{what} must not be negative")
    return n


def _input(data: Any, text: bool, encoding: Optional[str]) -> Optional[bytes]:
    if data is None:
        return None
    if isinstance(data, str):
        if not (text or encoding):
            raise TypeError("input is a str: pass text=True, or bytes")
        return data.encode(encoding or "utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"input must be bytes (or str with text=True), not {type(data).__name__}")


def _stdio(spec: Any, n: int) -> Tuple[int, int]:
    if spec is None:
        return _STDIO_INHERIT, -1
    if spec is PIPE or (isinstance(spec, int) and not isinstance(spec, bool) and spec == PIPE):
        return _STDIO_PIPE, -1
    if isinstance(spec, int) and not isinstance(spec, bool) and spec == DEVNULL:
        return _STDIO_NULL, -1
    if isinstance(spec, int) and not isinstance(spec, bool) and spec >= 0:
        return _STDIO_FD, spec
    if hasattr(spec, "fileno"):
        return _STDIO_FD, spec.fileno()
    raise TypeError(f"stdio {n}: expected None, PIPE, DEVNULL, a descriptor or a file, not {spec!r}")


class Child(Closing):
    """A running (or ended) confined child, from :meth:`Policy.spawn`.

    Like :class:`subprocess.Popen`: ``pid``, ``returncode`` (None while
    running), ``poll()``, ``wait(timeout)``, ``communicate()``, ``kill()``,
    ``send_signal()``, ``terminate()``; plus ``fileno()`` (readable when the
    child needs attention: register it with selectors/asyncio, then call
    ``poll()``; also wake up after :meth:`timeout_remaining` for the wall
    limit) and ``result`` (the :class:`SandboxResult` once it ended).
    ``close()`` (or the context manager, or garbage collection) kills a child
    still running, reaps it and frees everything.
    """

    def __init__(self) -> None:  # use Policy.spawn
        self._ptr: Optional[int] = None
        self._lock = threading.Lock()
        self.args: List[Any] = []
        self.pid: int = -1
        self.returncode: Optional[int] = None
        self.result: "Optional[SandboxResult[bytes]]" = None
        self._keep: Any = None
        self._pipes: Dict[int, bool] = {}
        self._supervisor: Any = None  # the Supervisor that reaps it (wait_async), or None

    @classmethod
    def _spawn(cls, policy: Policy, call: "_Call", argl: List[Any], argv: Any, *, stdin: Any, stdout: Any,
               stderr: Any, pass_fds: Iterable[int]) -> "Child":
        self = cls()
        io = SbxIo()
        io.size = ctypes.sizeof(SbxIo)
        io.stdin_mode, io.stdin_fd = _stdio(stdin, 0)
        io.stdout_mode, io.stdout_fd = _stdio(stdout, 1)
        io.stderr_mode, io.stderr_fd = _stdio(stderr, 2)
        fds = [_int(fd, "pass_fds item") for fd in pass_fds]
        keep = (ctypes.c_int * max(1, len(fds)))(*fds)
        io.keep_fds = ctypes.cast(keep, ctypes.POINTER(ctypes.c_int))
        io.n_keep_fds = len(fds)
        opts = call.opts()
        opts.io = ctypes.pointer(io)
        h = c_child_p()
        lib.sbx_spawn_with(call.cpol, argv, ctypes.byref(opts), ctypes.byref(h))
        self._ptr = h.value
        # the violation callback and the operations' handlers must outlive the child
        self._keep = (policy._callback, policy._capabilities)
        self.args = argl
        self.pid = lib.sbx_child_pid(self._ptr)
        for n, mode in ((0, io.stdin_mode), (1, io.stdout_mode), (2, io.stderr_mode)):
            if mode == _STDIO_PIPE:
                self._pipes[n] = True
        return self

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed Child")
        return self._ptr

    # -- life cycle
    def close(self) -> None:
        """Kill the child if it still runs, reap it, free it (idempotent)."""
        if self._supervisor is not None:  # awaited: take it back first (_aio.py)
            from ._aio import _detach
            _detach(self)
        with self._lock:
            p, self._ptr = self._ptr, None
        if p:
            lib.sbx_child_free(p)


    # -- supervision
    def fileno(self) -> int:
        """A descriptor that becomes readable when the child needs attention (owned by the child)."""
        return int(lib.sbx_child_fd(self._handle()))

    def timeout_remaining(self) -> Optional[float]:
        """Seconds until the wall-clock deadline (0 if passed), or None if there is none."""
        ms = lib.sbx_child_timeout_ms(self._handle())
        return None if ms < 0 else ms / 1000.0

    def stdio_fd(self, stream: int) -> Optional[int]:
        """The host's non-blocking end of a piped stream (0, 1, 2), or None
        if it is not a pipe or was closed.  Owned by the child: do not close it,
        use :meth:`close_stdio`."""
        fd = lib.sbx_child_stdio_fd(self._handle(), _int(stream, "stream"))
        if fd == -_errno.EBADF:
            return None
        return _err.check(fd, "sbx_child_stdio_fd")

    def close_stdio(self, stream: int) -> None:
        """Close the host's end of a piped stream (for stdin: end-of-file). Closing twice is a no-op."""
        rc = lib.sbx_child_close_stdio(self._handle(), _int(stream, "stream"))
        if rc != -_errno.EBADF:
            _err.check(rc, "sbx_child_close_stdio")

    def _finish(self, r: Optional[int]) -> None:
        try:
            self.result = _result_from_c(r or 0, self.args, False)
        finally:
            lib.sbx_result_free(r)
        self.returncode = self.result.returncode

    def poll(self) -> Optional[int]:
        """Service the child without blocking: its return code if it ended
        (``result`` is then set), else None."""
        if self.result is not None:
            return self.returncode
        self._not_supervised()
        r = c_result_p()
        rc = lib.sbx_child_poll(self._handle(), ctypes.byref(r))
        if rc == -_errno.EAGAIN:
            return None
        _err.check(rc, "sbx_child_poll")
        self._finish(r.value)
        return self.returncode

    def _sleep_for(self, deadline: Optional[float]) -> None:
        """Block until the child fd is readable, its wall deadline, or ``deadline``."""
        waits = []
        lim = lib.sbx_child_timeout_ms(self._handle())
        if lim >= 0:
            waits.append(lim / 1000.0)
        if deadline is not None:
            waits.append(max(0.0, deadline - time.monotonic()))
        select.select([self.fileno()], [], [], min(waits) if waits else None)

    def wait(self, timeout: Optional[float] = None) -> int:
        """Wait for the child to end (enforcing its wall limit) and return its return code.

        With ``timeout`` (seconds) raise :class:`agentsbx.TimeoutExpired` if it
        is still running then; it keeps running, as with Popen.wait.
        """
        if self.result is not None:
            return self.returncode  # type: ignore[return-value]
        self._not_supervised()
        if timeout is None:
            r = c_result_p()
            lib.sbx_child_wait(self._handle(), ctypes.byref(r))
            self._finish(r.value)
            return self.returncode  # type: ignore[return-value]
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise _err.TimeoutExpired(self.args, timeout)
            self._sleep_for(deadline)
        return self.returncode  # type: ignore[return-value]

    def communicate(self, input: Optional[bytes] = None,
                    timeout: Optional[float] = None) -> Tuple[Optional[bytes], Optional[bytes]]:
        """Write ``input`` to a piped stdin (then close it), read piped
        stdout/stderr until end-of-file, and wait for the child.  Returns
        ``(stdout, stderr)`` (None for a stream that is not a pipe); sets
        ``result``.  With ``timeout``: :class:`agentsbx.TimeoutExpired` and the
        child keeps running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        data = memoryview(input or b"")
        sent = 0
        infd = self.stdio_fd(0)
        if input is not None and infd is None:
            raise ValueError("communicate(input): stdin is not a pipe")
        bufs: Dict[int, List[bytes]] = {}
        outfds: Dict[int, int] = {}
        for n in (1, 2):
            fd = self.stdio_fd(n)
            if fd is not None:
                outfds[fd] = n
                bufs[n] = []
        if infd is not None and not data:
            self.close_stdio(0)
            infd = None
        ended = False
        after: Dict[int, int] = {}  # bytes read per stream after the end
        while True:
            if not ended and self.poll() is not None:
                ended = True
            if ended and infd is not None:
                self.close_stdio(0)
                infd = None
            if ended and not outfds:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise _err.TimeoutExpired(self.args, timeout,  # type: ignore[arg-type]
                                            b"".join(bufs.get(1, [])), b"".join(bufs.get(2, [])))
            rl = list(outfds)
            wl = [infd] if infd is not None else []
            if not ended:
                rl.append(self.fileno())
            waits = [] if not ended else [0.0]
            lim = lib.sbx_child_timeout_ms(self._handle()) if not ended else -1
            if lim >= 0:
                waits.append(lim / 1000.0)
            if deadline is not None:
                waits.append(max(0.0, deadline - time.monotonic()))
            r, w, _ = select.select(rl, wl, [], min(waits) if waits else None)
            if w and infd is not None:
                try:
                    sent += os.write(infd, data[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except BrokenPipeError:
                    sent = len(data)
                if sent >= len(data):
                    self.close_stdio(0)
                    infd = None
            for fd in r:
                if fd not in outfds:
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    bufs[outfds[fd]].append(chunk)
                    if ended:
                        after[fd] = after.get(fd, 0) + len(chunk)
                        if after[fd] >= _DRAIN_MAX:
                            # At most this much after the end: a descendant
                            # that left the group must not keep us reading.
                            self.close_stdio(outfds.pop(fd))
                else:
                    self.close_stdio(outfds.pop(fd))
            if ended and not r:
                # The child ended and nothing more is readable now: stop (a
                # descendant that left the group may hold the pipes open).
                break
        self.wait()
        return (b"".join(bufs[1]) if 1 in bufs else None, b"".join(bufs[2]) if 2 in bufs else None)

    def _not_supervised(self) -> None:
        if self._supervisor is not None:
            raise RuntimeError(f"{self!r} is supervised (wait_async() or a Supervisor) and is "
                               "reaped there: await it instead")

    async def wait_async(self) -> int:
        """Await the end of the child and return its return code (``result`` is then set).

        The child is watched, with every other awaited child of the running
        event loop, by one supervisor whose single descriptor is registered
        with ``loop.add_reader()``; its wall-clock limit is enforced by that
        descriptor's timer, without a thread.  Cancelling the await leaves the
        child running.  See :mod:`agentsbx._aio`.
        """
        from ._aio import wait_child
        return await wait_child(self)

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the child's main process (no-op if it has ended)."""
        if self.result is None:
            lib.sbx_child_signal(self._handle(), _int(int(sig), "signal"))

    def terminate(self) -> None:
        """Send SIGTERM to the child's main process."""
        self.send_signal(_signal.SIGTERM)

    def kill(self) -> None:
        """Kill the child's whole process group with SIGKILL (status ``"killed"``)."""
        if self.result is None:
            lib.sbx_child_kill(self._handle())

    def __repr__(self) -> str:
        return f"<agentsbx.Child pid={self.pid} returncode={self.returncode}>"


# ---- module-level helpers -------------------------------------------------------

def version() -> str:
    """The C library's version (``sbx_version()``)."""
    return _s(lib.sbx_version())


def landlock_abi() -> int:
    """The Landlock ABI the library uses on this kernel (0: none)."""
    return int(lib.sbx_landlock_abi())


class Feature(NamedTuple):
    """One probed kernel/host feature."""

    name: str
    level: int
    reason: str

    @property
    def available(self) -> bool:
        return self.level > 0


def probe() -> Dict[str, Feature]:
    """What this kernel and host can enforce (``agentsbx check``): name -> :class:`Feature`."""
    out: Dict[str, Feature] = {}
    for f in range(1, 64):
        name = _s(lib.sbx_feature_name(f))
        if name == "unknown":
            break
        buf = ctypes.create_string_buffer(512)
        level = lib.sbx_probe(f, buf, len(buf))
        out[name] = Feature(name, level, _s(buf.value))
    return out


def strerror(err: int) -> str:
    """The library's description of an errno (sign ignored)."""
    return _s(lib.sbx_strerror(-abs(_int(err, "err"))))


def errname(err: int) -> str:
    """The symbolic name of an errno ("EINVAL")."""
    return _s(lib.sbx_errname(-abs(_int(err, "err"))))


def stage_name(stage: int) -> str:
    return _s(lib.sbx_stage_name(_int(stage, "stage")))


def status_name(status: int) -> str:
    return _s(lib.sbx_status_name(_int(status, "status")))


def profiles() -> List[str]:
    """The names of the built-in profiles (``sbx_profile_name``), for :meth:`Policy.apply_profile`."""
    names: List[str] = []
    i = 0
    while True:
        n = lib.sbx_profile_name(i)
        if not n:
            return names
        names.append(_s(n))
        i += 1


@overload
def run(args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
        timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
        env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Literal[True],
        encoding: Optional[str] = ..., errors: Optional[str] = ...) -> "SandboxResult[str]": ...
@overload
def run(args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
        timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
        env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Optional[bool] = ...,
        encoding: str, errors: Optional[str] = ...) -> "SandboxResult[str]": ...
@overload
def run(args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
        timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
        env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Optional[bool] = ...,
        encoding: Optional[str] = ..., errors: str) -> "SandboxResult[str]": ...
@overload
def run(args: _Args, *, input: Optional[bytes] = ..., capture_output: bool = ...,
        timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
        env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ...,
        text: Literal[False, None] = ..., encoding: None = ..., errors: None = ...) -> "SandboxResult[bytes]": ...
@overload
def run(args: _Args, *, input: Optional[Union[bytes, str]] = ..., capture_output: bool = ...,
        timeout: Optional[float] = ..., cwd: Optional[StrPath] = ...,
        env: Optional[Mapping[str, Optional[str]]] = ..., check: bool = ..., text: Optional[bool] = ...,
        encoding: Optional[str] = ..., errors: Optional[str] = ...) -> "SandboxResult[Any]": ...


def run(args: _Args, *, input: Optional[Union[bytes, str]] = None, capture_output: bool = False,
        timeout: Optional[float] = None, cwd: Optional[StrPath] = None,
        env: Optional[Mapping[str, Optional[str]]] = None, check: bool = False,
        text: Optional[bool] = False, encoding: Optional[str] = None,
        errors: Optional[str] = None) -> "SandboxResult[Any]":
    """``Policy().run(args, ...)`` with the default policy."""
    with Policy() as p:
        return p.run(args, input=input, capture_output=capture_output, timeout=timeout, cwd=cwd,
                     env=env, check=check, text=text, encoding=encoding, errors=errors)
