"""agentsbx: run untrusted programs confined, as naturally as :mod:`subprocess`.

A ctypes binding of libagentsbx (no compiler needed)::

    import agentsbx

    with agentsbx.Policy() as p:
        p.set_workdir("/tmp/work").limit(memory="256M", cpu_time=5)
        r = p.run(["python3", "-c", "print(6 * 7)"], capture_output=True, timeout=10)
    print(r.returncode, r.stdout, r.status, r.layers, r.violations)

The library is found through ``AGENTSBX_LIBRARY``, then the copy bundled in
the package (the wheel the project's build makes carries it), then the
repository's build tree (``build*/lib``), then the system loader; its
``major.minor`` version must match this package's.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import errors  # noqa: E402
from ._native import library_path, lib as _lib  # noqa: E402

_libver = (_lib.sbx_version() or b"").decode()
if _libver.split(".")[:2] != __version__.split(".")[:2]:
    raise ImportError(f"agentsbx {__version__} needs libagentsbx {'.'.join(__version__.split('.')[:2])}.x, "
                      f"but {library_path} is version {_libver}")

from ._api import (DEVNULL, KILL, LANDLOCK_RIGHTS, LAYERS, PIPE, UNLIMITED, CallFailed, Child,  # noqa: E402
                   AccessDenial, ExecDenial, Feature, Policy, SandboxResult, Violation, errname, landlock_abi, parse_duration, parse_size,
                   probe, profiles, run, stage_name, status_name, strerror, version)
from ._aio import AsyncChild, Supervisor, run_async  # noqa: E402
from ._output import OutputFilter  # noqa: E402
from ._overlay import Change, overlay_apply, overlay_changes, overlay_discard  # noqa: E402
from ._session import CellResult, Session  # noqa: E402
from .errors import (InvalidArgumentError, NotSupportedError, PathNotADirectoryError, PathNotFoundError,  # noqa: E402
                     ProgramNotFoundError, SandboxError, SandboxPermissionError,
                     SandboxProcessError, TimeoutExpired)

__all__ = [
    "__version__", "library_path", "Policy", "CallFailed", "Child", "SandboxResult", "Violation", "ExecDenial", "AccessDenial", "Feature",
    "run", "probe", "profiles", "version", "landlock_abi", "parse_duration", "parse_size", "strerror", "errname", "stage_name",
    "run_async", "Supervisor", "AsyncChild", "OutputFilter", "Session", "CellResult",
    "Change", "overlay_changes", "overlay_apply", "overlay_discard",
    "status_name", "UNLIMITED", "KILL", "PIPE", "DEVNULL", "LAYERS", "LANDLOCK_RIGHTS",
    "SandboxError", "InvalidArgumentError", "NotSupportedError", "PathNotFoundError", "PathNotADirectoryError",
    "ProgramNotFoundError", "SandboxPermissionError", "SandboxProcessError", "TimeoutExpired",
]
