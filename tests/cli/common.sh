# The prelude of the command-line test scripts (sourced): the arguments
# (PATH/TO/agentsbx CASE), a private temporary directory $TMP removed at exit,
# and fail/skip. Exit 0: passed, 1: failed, 77: skipped (with the reason on
# stderr).
#
#   . "$(dirname "$0")/common.sh" PREFIX "$@"

if [ $# -ne 3 ]; then
    echo "usage: $0 AGENTSBX CASE" >&2
    exit 2
fi
SBX=$2
CASE=$3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
TMP=$(cd "$TMP" && pwd -P)

fail() {
    echo "FAIL: $CASE: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $CASE: $*" >&2
    exit 77
}
