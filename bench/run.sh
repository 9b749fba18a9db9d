#!/bin/bash
# Run the standard spawn-latency measurements and print their tables.
#
#   bench/run.sh [--no-peers] PATH/TO/sbx_bench [sbx_bench options...]
#
# Builds nothing. Runs sbx_bench twice: (a) as it is, (b) with 1 GiB of touched
# ballast memory, each with the fork+execve control and, unless --no-peers, the
# bwrap and firejail peers (skipped with a reason when they cannot run here).
# Extra options (e.g. -n 500) go to both runs. Then (c) runs sbx_throughput_bench, if it
# was built beside sbx_bench, with its defaults (and its throughput again with --ahead),
# and (e) sbx_broker_bench likewise.
# See docs/performance.md.
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

args=(--modes floor,sbx,sbx-min,sbx-noahead,sbx-min-noahead,fork)
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

# (d) namespaces and cgroups (issue 5): each namespace set, against bwrap with the same
# namespaces, in one run.
echo
echo "(d) namespaces and cgroups; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
ns_args=(--modes floor,sbx,sbx-ns-user,sbx-ns-pid,sbx-ns-mount,sbx-ns-net,sbx-ns,sbx-ns-all,sbx-cgroup)
if [ "$peers" = 1 ]; then
    ns_args+=(--peer 'bwrap-user=bwrap --unshare-user --ro-bind / / /bin/true'
              --peer 'bwrap-pid=bwrap --unshare-pid --ro-bind / / /bin/true'
              --peer 'bwrap-ns=bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --ro-bind / / /bin/true'
              --peer 'bwrap-all=bwrap --unshare-all --ro-bind / / /bin/true')
fi
"$bench" "${ns_args[@]}" "$@" || rc=1

# (c) many children at once (issue 9), when sbx_throughput_bench sits beside sbx_bench:
# spawn throughput against posix_spawn, memory per supervised child, exit-to-report latency.
throughput="$(dirname "$bench")/sbx_throughput_bench"
if [ -x "$throughput" ]; then
    echo
    echo "(c) many children: sbx_throughput_bench; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$throughput" || rc=1
    echo
    echo "(c') the same, the policy prepared ahead (--ahead); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$throughput" --only throughput --ahead || rc=1
fi
# (e) the egress broker (issue 17), when sbx_broker_bench sits beside sbx_bench: a 1 GiB
# download directly, through a bare splice relay and through the broker; connection
# set-up; host memory per open tunnel (docs/network.md, "Performance").
broker="$(dirname "$bench")/sbx_broker_bench"
if [ -x "$broker" ]; then
    echo
    echo "(e) the egress broker: sbx_broker_bench; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$broker" || rc=1
fi
exit $rc
