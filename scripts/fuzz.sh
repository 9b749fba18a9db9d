#!/usr/bin/env bash
# Build every libFuzzer target (fuzz/fuzz_*.c) with clang, ASan and UBSan in a
# temporary directory, and run each for a bounded time from its committed
# corpus (fuzz/corpus/<target>/, and fuzz/<target>.dict when there is one).
# Fails if any target crashes, leaks, or trips a sanitizer.
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   KEEP=1         keep the build directory (crash inputs are in it)
#   --junit FILE   also write the outcome as JUnit XML (one test case per
#                  target), for the summary of scripts/test.sh
#
# New inputs found are written to the temporary directory, never to the
# repository: add an interesting one to fuzz/corpus/<target>/ by hand, and make
# any crash a regression test in tests/unit (see fuzz/README.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
junit=
while [ $# -gt 0 ]; do
  case $1 in
    --junit) junit=$2; shift 2 ;;
    *) echo "fuzz: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case $seconds in ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;; esac
cc=${FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$cc" ]; then
  echo "fuzz: clang not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/agentsbx-fuzz.XXXXXX)
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "fuzz: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A build that fails is one failed case of the JUnit report too.
build_failed() {
  if [ -n "$junit" ]; then
    printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
      '<testsuite name="fuzz" tests="1" failures="1">' \
      '  <testcase name="fuzz_build" classname="fuzz"><failure message="the fuzzers did not build"/></testcase>' \
      '</testsuite>' >"$junit"
  fi
  exit 1
}

echo "fuzz: building with $cc in $work"
if ! cmake -S "$top/fuzz" -B "$work/build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
     >"$work/configure.log" 2>&1; then
  tail -n 80 "$work/configure.log"; build_failed
fi
if ! cmake --build "$work/build" -j"${JOBS:-$(nproc)}" >"$work/build.log" 2>&1; then
  grep -E "error:|Error " "$work/build.log" | head -n 40; build_failed
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
targets=() results=() times=()
failed=0
for src in "$top"/fuzz/fuzz_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  targets+=("$name")
  corpus=$work/corpus/$name
  mkdir -p "$corpus" "$work/artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/artifacts/$name-")
  [ -f "$top/fuzz/$name.dict" ] && args+=(-dict="$top/fuzz/$name.dict")
  seeds=()
  [ -d "$top/fuzz/corpus/$name" ] && seeds+=("$top/fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  start=$(date +%s)
  if "$work/build/$name" "${args[@]}" "$corpus" "${seeds[@]}" >"$work/$name.log" 2>&1; then
    results+=(pass)
    echo "fuzz: $name: no crash ($(grep -c . <(ls "$corpus")) new inputs;" \
         "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$') runs)"
  else
    results+=(fail); failed=$((failed + 1))
    KEEP=1
    echo "fuzz: $name: FAILED; the input is in $work/artifacts/; log:"
    tail -n 60 "$work/$name.log"
  fi
  times+=($(( $(date +%s) - start )))
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz/fuzz_*.c target" >&2
  exit 1
fi

if [ -n "$junit" ]; then
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"fuzz\" tests=\"${#targets[@]}\" failures=\"$failed\">"
    for i in "${!targets[@]}"; do
      printf '  <testcase name="%s" classname="fuzz" time="%s">' "${targets[$i]}" "${times[$i]}"
      [ "${results[$i]}" = pass ] || printf '<failure message="crash, leak or sanitizer error"/>'
      printf '</testcase>\n'
    done
    echo '</testsuite>'
  } >"$junit"
fi
echo "fuzz: ${#targets[@]} targets, $failed failed"
[ "$failed" -eq 0 ]
