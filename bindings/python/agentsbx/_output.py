"""The output filter on its own (``sbx_output_filter``, output.h).

The filter a capturing ``run`` passes the child's output through: registered
secrets and well-known credential shapes become ``[REDACTED]``, terminal
control characters are neutralised when the policy asks for it.  Use it for
output a host reads itself (``Policy.spawn(stdout=PIPE)``); ``run``,
``run_async`` and ``spawn_async`` already use it::

    with agentsbx.Policy() as p:
        p.redact("hunter22")
        with agentsbx.OutputFilter(p) as f:
            out = f.write(b"pass=hunter") + f.write(b"22\\n") + f.finish()
    assert out == b"pass=[REDACTED]\\n" and f.redactions == 1

A secret split across writes is still found: ``write`` may hold back a short
tail until the next ``write`` or ``finish`` decides.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, List, Optional, Union

from ._closing import Closing
from ._native import OUTPUT_FN, c_output_filter_p, lib

if TYPE_CHECKING:
    from ._api import Policy

__all__ = ["OutputFilter"]


class OutputFilter(Closing):
    """A filter for one stream with ``policy``'s output settings as they are now
    (later changes of the policy do not affect it; it may outlive the policy).

    :param policy: whose secrets (:meth:`Policy.redact`), credential patterns
        (:meth:`Policy.redact_patterns`) and escape mode (:meth:`Policy.escape_output`)
        are used.
    :param stream: the stream number it stands for (0, 1 or 2; only reported).
    """

    def __init__(self, policy: "Policy", stream: int = 1) -> None:
        from ._api import Policy, _int  # late: _api imports this module
        if not isinstance(policy, Policy):
            raise TypeError(f"policy must be an agentsbx.Policy, not {type(policy).__name__}")
        self._make(policy._handle(), _int(stream, "stream"))

    @classmethod
    def _from_handle(cls, cpol: int, stream: int) -> "OutputFilter":
        self = cls.__new__(cls)
        self._make(cpol, stream)
        return self

    def _make(self, cpol: int, stream: int) -> None:
        self._ptr: Optional[int] = None
        self._out: List[bytes] = []
        self.stream: int = stream

        def receive(_stream: int, data: Any, n: int, _ud: Any) -> None:
            self._out.append(ctypes.string_at(data, n))

        self._fn = OUTPUT_FN(receive)  # kept alive as long as the filter
        h = c_output_filter_p()
        lib.sbx_output_filter_new(cpol, self.stream, self._fn, None, ctypes.byref(h))
        self._ptr = h.value

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed OutputFilter")
        return self._ptr

    def _take(self) -> bytes:
        out, self._out = b"".join(self._out), []
        return out

    def write(self, data: Union[bytes, bytearray, memoryview]) -> bytes:
        """Filter ``data``; return the filtered bytes it can release now (possibly
        fewer: a tail that may start a secret is held back).  After :meth:`finish`:
        :class:`agentsbx.SandboxError` (``EPIPE``)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        b = bytes(data)
        lib.sbx_output_filter_write(self._handle(), b, len(b))
        return self._take()

    def finish(self) -> bytes:
        """End of the stream: return what was held back, filtered (idempotent)."""
        lib.sbx_output_filter_finish(self._handle())
        return self._take()

    @property
    def redactions(self) -> int:
        """Secrets replaced so far."""
        return int(lib.sbx_output_filter_redactions(self._ptr)) if self._ptr else self._redactions

    @property
    def escapes(self) -> int:
        """Control characters or invalid bytes neutralised so far."""
        return int(lib.sbx_output_filter_escapes(self._ptr)) if self._ptr else self._escapes

    _redactions = 0
    _escapes = 0

    def close(self) -> None:
        """Free the filter, wiping what it held (bytes held back are dropped:
        call :meth:`finish` first).  The counts stay readable.  Idempotent."""
        p = self._ptr
        if p:
            self._redactions = int(lib.sbx_output_filter_redactions(p))
            self._escapes = int(lib.sbx_output_filter_escapes(p))
            self._ptr = None
            lib.sbx_output_filter_free(p)

