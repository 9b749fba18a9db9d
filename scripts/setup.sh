#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working build: installs the
# dependencies, builds libagentsbx and the agentsbx CLI into ./build, and runs
# the demo (a real program run confined, its result printed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}

"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "setup: built $build/lib/libagentsbx.so and $build/tools/agentsbx"
echo
echo "demo: a shell confined by the default policy, 5 s wall clock, 256 MiB, 64 files"
set -x
"$build/tools/agentsbx" run --timeout 5 --memory 256M --files 64 --tool id --json -- sh -c '
  echo "hello from the sandbox: user $(id -un), pid $$, TMPDIR=$TMPDIR"
  echo "a file in TMPDIR" >"$TMPDIR/note" && echo "wrote \$TMPDIR/note"
  echo x >/etc/agentsbx-demo || echo "writing /etc/agentsbx-demo was refused"
  : </etc/passwd && echo "read /etc/passwd (the system is readable)"
  (: <"$0") 2>/dev/null || echo "reading $0 (not granted) was refused"
  /usr/bin/whoami || echo "running /usr/bin/whoami (not granted) was refused"
  exit 3' "$top/README.md" || echo "agentsbx exited with $? (the child's own exit code)"
