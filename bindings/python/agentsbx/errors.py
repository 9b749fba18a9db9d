"""Exceptions of the agentsbx binding.

Every failed libagentsbx call (a negative errno return) raises a
:class:`SandboxError`, an :class:`OSError` whose ``errno`` is the positive
errno, ``message`` the library's detailed message (``sbx_last_error()``, for
instance ``"chdir(/nope): No such file or directory"``) and ``stage`` the name
of the spawn stage that failed (``sbx_stage_name(sbx_last_error_stage())``:
``"program"``, ``"exec"``, ``"workdir"``, ``"landlock"``...; ``"none"`` for a
call that is not a spawn).

The subclass raised depends on the errno (and stage), so that a caller can catch
the cases it handles differently; each also derives from the matching built-in
exception, so ``except FileNotFoundError`` or ``except ValueError`` work too:

=========================  =====================================  =========================
exception                  when                                   also a
=========================  =====================================  =========================
InvalidArgumentError       ``-EINVAL``: the caller's mistake      ``ValueError``
NotSupportedError          ``-EOPNOTSUPP``: a strict layer cannot
                           be enforced on this host
ProgramNotFoundError       ``-ENOENT`` at stage program or exec   ``FileNotFoundError``
PathNotFoundError          any other ``-ENOENT`` (a grant, a      ``FileNotFoundError``
                           workdir)
PathNotADirectoryError     ``-ENOTDIR``: a file where a           ``NotADirectoryError``
                           directory is needed (a workdir, a
                           component of a granted path)
SandboxPermissionError     ``-EACCES`` / ``-EPERM``               ``PermissionError``
SandboxError               anything else
=========================  =====================================  =========================

:class:`SandboxProcessError` (``check=True`` and a non-zero return code) and
:class:`TimeoutExpired` (the ``timeout`` of a call expired) derive from their
:mod:`subprocess` counterparts, not from :class:`SandboxError`: the sandbox
worked, the child failed.
"""

from __future__ import annotations

import errno as _errno
import subprocess
from typing import Any, Optional


class SandboxError(OSError):
    """A libagentsbx call failed.

    Attributes: ``errno`` (positive errno), ``strerror`` (short description),
    ``message`` (the library's detailed message), ``stage`` (spawn stage name),
    ``function`` (the C function that failed).
    """

    def __init__(self, err: int, message: str, stage: str = "none", function: str = "") -> None:
        err = abs(err)
        super().__init__(err, message)
        self.message: str = message
        self.stage: str = stage
        self.function: str = function

    def __str__(self) -> str:
        name = _errno.errorcode.get(self.errno, str(self.errno))
        where = f" (stage {self.stage})" if self.stage and self.stage != "none" else ""
        return f"[{name}] {self.message}{where}"

    def __reduce__(self) -> Any:
        return (type(self), (self.errno, self.message, self.stage, self.function))


class InvalidArgumentError(SandboxError, ValueError):
    """``-EINVAL``: an argument the library rejected (relative path, value out of range...)."""


class NotSupportedError(SandboxError):
    """``-EOPNOTSUPP``: a strict layer cannot be enforced on this host (mark it best-effort to run anyway)."""


class PathNotFoundError(SandboxError, FileNotFoundError):
    """``-ENOENT`` for a path: a grant, a workdir, a temporary-directory parent."""


class ProgramNotFoundError(PathNotFoundError):
    """``-ENOENT`` at stage ``program`` or ``exec``: the program to run does not exist."""


class PathNotADirectoryError(SandboxError, NotADirectoryError):
    """``-ENOTDIR``: a file given where a directory is needed (a workdir, a component of a grant)."""


class SandboxPermissionError(SandboxError, PermissionError):
    """``-EACCES`` or ``-EPERM``: not executable, or a step was refused."""


class SandboxProcessError(subprocess.CalledProcessError):
    """Raised by ``run(check=True)`` when the child's return code is not 0.

    ``result`` is the full :class:`agentsbx.SandboxResult` (status, violations...).
    """

    def __init__(self, result: Any) -> None:
        super().__init__(result.returncode, result.args, result.stdout, result.stderr)
        self.result = result

    def __str__(self) -> str:
        return f"{super().__str__()} [status {self.result.status}]"


class TimeoutExpired(subprocess.TimeoutExpired):
    """The ``timeout`` of a call expired.

    From ``Policy.run``: the child was killed (with its whole process group)
    by the library; ``result`` holds its result and ``stdout``/``stderr`` what
    was captured.  From ``Child.wait``/``communicate``: the child still runs and
    ``result`` is None, as with :mod:`subprocess`.
    """

    def __init__(self, cmd: Any, timeout: float, output: Optional[bytes] = None,
                 stderr: Optional[bytes] = None, result: Any = None) -> None:
        super().__init__(cmd, timeout, output, stderr)
        self.result = result


_lib: Any = None


def _bind(lib: Any) -> None:
    global _lib
    _lib = lib


def _decode(b: Optional[bytes]) -> str:
    return b.decode("utf-8", "replace") if b else ""


def error_from_library(rc: int, function: str = "") -> SandboxError:
    """Build the exception for a negative return ``rc`` of a libagentsbx call
    (must be called on the thread that made the call, before any other call)."""
    message = _decode(_lib.sbx_last_error()) if _lib is not None else ""
    stage_no = _lib.sbx_last_error_stage() if _lib is not None else 0
    stage = _decode(_lib.sbx_stage_name(stage_no)) if _lib is not None else "none"
    err = -rc
    if not message:
        message = _decode(_lib.sbx_strerror(rc)) if _lib is not None else str(err)
    cls: "type[SandboxError]" = SandboxError
    if err == _errno.EINVAL:
        cls = InvalidArgumentError
    elif err == _errno.EOPNOTSUPP:
        cls = NotSupportedError
    elif err == _errno.ENOENT:
        cls = ProgramNotFoundError if stage in ("program", "exec") else PathNotFoundError
    elif err == _errno.ENOTDIR:
        cls = PathNotADirectoryError
    elif err in (_errno.EACCES, _errno.EPERM):
        cls = SandboxPermissionError
    return cls(err, message, stage, function)


def check(rc: int, function: str = "") -> int:
    """Return ``rc`` if it is >= 0, else raise the matching :class:`SandboxError`."""
    if rc < 0:
        raise error_from_library(rc, function)
    return rc
