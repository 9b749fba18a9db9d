#!/bin/bash
# Run the standard spawn-latency measurements and print their tables.
#
#   bench/run.sh [--no-peers] PATH/TO/sbx_bench [sbx_bench options...]
#
# Builds nothing. Runs sbx_bench twice: (a) as it is, (b) with 1 GiB of touched
# ballast memory, each with the fork+execve control and, unless --no-peers, the
# bwrap and firejail peers (skipped with a reason when they cannot run here).
# Extra options (e.g. -n 500) go to both runs. See docs/performance.md.
set -u

peers=1
if [ "${1-}" = "--no-peers" ]; then
    peers=0
    shift
fi
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 [--no-peers] PATH/TO/sbx_bench [sbx_bench options...]" >&2
    exit 2
fi
bench=$1
shift

args=(--modes floor,sbx,sbx-min,fork)
if [ "$peers" = 1 ]; then
    args+=(--peer 'bwrap=bwrap --unshare-all --ro-bind / / /bin/true'
           --peer 'firejail=firejail --quiet --noprofile /bin/true')
fi

cpu=$(grep -m1 -E '^(model name|Hardware|cpu model|uarch)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: kernel $(uname -r), $(uname -m), $(nproc) CPUs, ${cpu:-unknown CPU}," \
     "$(awk '/^MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
for tool in bwrap firejail; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "peer:    $tool $("$tool" --version 2>/dev/null | head -n1 | grep -oE '[0-9]+(\.[0-9]+)+' | head -n1)"
    fi
done

rc=0
echo
echo "(a) no ballast; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" "${args[@]}" "$@" || rc=1
echo
echo "(b) --ballast 1G; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" --ballast 1G "${args[@]}" "$@" || rc=1
exit $rc
