"""The package's own PEP 517 build backend: no build dependency at all.

So that ``pip install bindings/python`` works offline in a fresh venv (pip's
isolated build has nothing to download: ``requires = []``) and writes nothing
into the source tree (the wheel is assembled in memory and written only into
the directory pip gives).  The project's CMake build uses it too
(build_wheel.py).

The wheel carries ``libagentsbx.so.0`` when one is found, in this order: the
``library`` config setting (``pip install --config-settings library=PATH``),
``AGENTSBX_WHEEL_LIBRARY``, else the newest ``build*/lib/libagentsbx.so.0`` of
the checkout the package is in.  With the library it is tagged
``py3-none-linux_<arch>``; without, ``py3-none-any`` (the package then loads
the library through ``AGENTSBX_LIBRARY`` or the system loader).
"""

from __future__ import annotations

import base64
import glob
import hashlib
import io
import os
import platform
import re
import zipfile
from typing import Any, Dict, List, Mapping, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "libagentsbx.so.0"
#: Zip timestamps: fixed, so that two builds of the same files are the same bytes.
_EPOCH = (2020, 1, 1, 0, 0, 0)


def _project() -> Dict[str, Any]:
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib
        return dict(tomllib.loads(raw.decode("utf-8"))["project"])
    except ImportError:  # Python < 3.11: the few simple keys this file uses
        text = raw.decode("utf-8").split("[project]", 1)[1].split("\n[", 1)[0]
        proj: Dict[str, Any] = {}
        for key in ("name", "version", "description", "requires-python"):
            m = re.search(rf'^{key}\s*=\s*"([^"]*)"', text, re.M)
            if m:
                proj[key] = m.group(1)
        proj["classifiers"] = re.findall(r'^\s*"([^"]+ :: [^"]+)"', text, re.M)
        return proj


def _library(config_settings: Optional[Mapping[str, Any]]) -> Optional[str]:
    cfg = (config_settings or {}).get("library") or os.environ.get("AGENTSBX_WHEEL_LIBRARY")
    if cfg:
        path = os.path.abspath(str(cfg))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"agentsbx build backend: library {path} does not exist")
        return path
    repo = os.path.dirname(os.path.dirname(HERE))
    if not os.path.isfile(os.path.join(repo, "CMakeLists.txt")):
        return None
    builds = glob.glob(os.path.join(repo, "build*", "lib", LIBRARY))
    builds.sort(key=lambda p: os.stat(p).st_mtime, reverse=True)
    return builds[0] if builds else None


def _files(library: Optional[str]) -> List[Tuple[str, bytes, int]]:
    """(path in the wheel, content, mode) of the package."""
    out = []
    pkg = os.path.join(HERE, "agentsbx")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") or name == "py.typed":
            with open(os.path.join(pkg, name), "rb") as f:
                out.append((f"agentsbx/{name}", f.read(), 0o644))
    if library is not None:
        with open(library, "rb") as f:
            out.append((f"agentsbx/{LIBRARY}", f.read(), 0o755))
    return out


def _metadata(proj: Mapping[str, Any]) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {proj['name']}", f"Version: {proj['version']}",
             f"Summary: {proj.get('description', '')}"]
    if "requires-python" in proj:
        lines.append(f"Requires-Python: {proj['requires-python']}")
    lines += [f"Classifier: {c}" for c in proj.get("classifiers", [])]
    lines.append("Description-Content-Type: text/markdown")
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return ("\n".join(lines) + "\n\n" + readme).encode("utf-8")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _wheel(wheel_directory: str, config_settings: Optional[Mapping[str, Any]]) -> str:
    proj = _project()
    name, version = str(proj["name"]), str(proj["version"])
    library = _library(config_settings)
    tag = f"py3-none-linux_{platform.machine()}" if library else "py3-none-any"
    dist_info = f"{name}-{version}.dist-info"
    files = _files(library)
    files.append((f"{dist_info}/METADATA", _metadata(proj), 0o644))
    files.append((f"{dist_info}/WHEEL",
                  (f"Wheel-Version: 1.0\nGenerator: agentsbx-build-backend\n"
                   f"Root-Is-Purelib: {'false' if library else 'true'}\nTag: {tag}\n").encode(), 0o644))
    files.append((f"{dist_info}/top_level.txt", b"agentsbx\n", 0o644))
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data, _ in files)
    record += f"{dist_info}/RECORD,,\n"
    files.append((f"{dist_info}/RECORD", record.encode(), 0o644))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data, mode in files:
            zi = zipfile.ZipInfo(path, _EPOCH)
            zi.external_attr = (0o100000 | mode) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    filename = f"{name}-{version}-{tag}.whl"
    os.makedirs(wheel_directory, exist_ok=True)
    with open(os.path.join(wheel_directory, filename), "wb") as f:
        f.write(buf.getvalue())
    return filename


# ---- PEP 517 ----------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[Mapping[str, Any]] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Mapping[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    try:
        return _wheel(wheel_directory, config_settings)
    finally:
        _forget_bytecode()


def _forget_bytecode() -> None:
    """pip imports this module from the source tree, and Python caches its
    bytecode there before any of it runs: remove that cache again (the one file,
    and its directory if nothing else is in it), so the install leaves nothing."""
    cache = os.path.join(HERE, "__pycache__")
    for pyc in glob.glob(os.path.join(cache, "_build_backend.*.pyc")):
        try:
            os.unlink(pyc)
        except OSError:
            pass
    try:
        os.rmdir(cache)
    except OSError:
        pass
