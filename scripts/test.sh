#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. a warnings-as-errors build; every test as root, then the live and
#      hostile tests again as an unprivileged user;
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the libFuzzer targets for a bounded time (scripts/fuzz.sh);
#   4. the unit tests under valgrind memcheck.
# Builds go to a temporary directory readable by the unprivileged user, which is
# removed at the end (KEEP=1 keeps it). Ends with one line:
#   "suite: N passed, N failed, N skipped".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc)}
test_user=${SBX_TEST_USER:-sbxtest}
work=$(mktemp -d /tmp/agentsbx-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "test: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

log() { printf '\n=== %s\n' "$*"; }

# The unprivileged user: created when missing (as root), never given a shell.
unpriv=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id -u "$test_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$test_user"
  fi
  unpriv=(runuser -u "$test_user" --)
else
  echo "test: not root: the suite runs once, as $(id -un); the root pass is skipped"
fi

build() { # build NAME CMAKE_ARGS...
  local dir=$work/$1; shift
  log "build $(basename "$dir"): $*"
  cmake -S "$top" -B "$dir" -DSBX_WERROR=ON -DSBX_BUILD_BENCH=ON "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; return 1; }
}

status=0
run_ctest() { # run_ctest NAME BUILD_DIR [as-user] CTEST_ARGS...
  local name=$1 dir=$2; shift 2
  local prefix=()
  if [ "${1:-}" = as-user ]; then
    shift
    [ ${#unpriv[@]} -gt 0 ] || return 0
    prefix=("${unpriv[@]}")
    chown -R "$test_user" "$dir/Testing" 2>/dev/null || mkdir -p "$dir/Testing"
    chown -R "$test_user" "$dir/Testing" "$work/junit" 2>/dev/null || true
  fi
  log "ctest $name ($(if [ ${#prefix[@]} -gt 0 ]; then echo "as $test_user"; else id -un; fi))"
  (cd "$dir" && "${prefix[@]}" ctest --output-on-failure -j"$jobs" \
     --output-junit "$work/junit/$name.xml" "$@") || status=1
  [ ${#prefix[@]} -eq 0 ] || chown -R "$(id -u)" "$dir/Testing"
}

mkdir -p "$work/junit"
chmod 777 "$work/junit"

build default -DCMAKE_BUILD_TYPE=Debug
run_ctest root "$work/default"
run_ctest unprivileged "$work/default" as-user -L live

build asan -DCMAKE_BUILD_TYPE=Debug -DSBX_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest asan-root "$work/asan"
run_ctest asan-unprivileged "$work/asan" as-user -L live
unset ASAN_OPTIONS UBSAN_OPTIONS

# libFuzzer targets (fuzz/fuzz_*.c) for FUZZ_SECONDS each (default 60), under
# ASan+UBSan; each target is a test case of the summary (junit/fuzz.xml).
log "fuzz"
"$top/scripts/fuzz.sh" --junit "$work/junit/fuzz.xml" || status=1

log "valgrind memcheck: unit tests"
vg_total=0 vg_failed=0
for t in "$work"/default/tests/unit/test_*; do
  [ -x "$t" ] || continue
  vg_total=$((vg_total + 1))
  if valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       "$t" >"$t.valgrind.log" 2>&1; then
    echo "valgrind: $(basename "$t"): clean"
  else
    vg_failed=$((vg_failed + 1)); status=1
    echo "valgrind: $(basename "$t"): FAILED"; cat "$t.valgrind.log"
  fi
done

log "summary"
python3 - "$work/junit" "$vg_total" "$vg_failed" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    p = f = s = 0
    skips = []
    for case in ET.parse(path).getroot().iter("testcase"):
        status = case.get("status", "")
        if case.find("failure") is not None or case.find("error") is not None or status == "fail":
            f += 1
        elif case.find("skipped") is not None or status in ("notrun", "disabled"):
            s += 1
            out = case.findtext("system-out") or ""
            why = [l for l in out.splitlines() if "SKIP" in l] or ["(no reason printed)"]
            skips.append(f"    skipped {case.get('name')}: {why[0].strip()}")
        else:
            p += 1
    print(f"  {path.rsplit('/', 1)[1][:-4]:20} {p} passed, {f} failed, {s} skipped")
    for line in skips:
        print(line)
    passed, failed, skipped = passed + p, failed + f, skipped + s
vt, vf = int(sys.argv[2]), int(sys.argv[3])
print(f"  {'valgrind':20} {vt - vf} passed, {vf} failed, 0 skipped")
passed, failed = passed + vt - vf, failed + vf
print(f"suite: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
