#!/usr/bin/env bash
# Package managers through the egress broker with the agentsbx command-line
# tool (issue 17): the commands docs/network.md gives, run as written against
# the local servers of tests/live/clients_origin.py over HTTPS (a CONNECT
# tunnel to a TLS server whose self-signed certificate each client is told to
# trust), in the default isolation and with --isolation minimal. Each checks
# the content, the JSON's network counters, and that a name not granted is
# refused with host, port and reason in the JSON. tests/live/test_clients.c
# covers the rest through the library (plain HTTP, the direct connection and
# its control, both spawn paths).
#
#   test_clients.sh PATH/TO/agentsbx CASE
set -u

. "$(dirname "$0")/common.sh" test_cli_clients "$@"
PY=/usr/bin/python3
ORIGIN=$(cd "$(dirname "$0")/../live" && pwd)/clients_origin.py

for p in openssl git; do
    command -v "$p" >/dev/null 2>&1 || skip "$p is not installed (scripts/install-deps.sh)"
done
[ "$("$SBX" check --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["features"]["landlock"]["level"])' 2>/dev/null || echo 0)" -ge 4 ] ||
    skip "host grants need Landlock TCP rules (ABI 4)"

SRV=
cleanup() { # the server too, then common.sh's temporary directory
    if [ -n "$SRV" ]; then
        kill "$SRV" 2>/dev/null
        wait "$SRV" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
mkdir "$TMP/root" "$TMP/work"
CA=$TMP/cert.pem

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/key.pem" \
    -out "$CA" -days 1 -subj "/CN=agentsbx test" \
    -addext "subjectAltName=DNS:git.test,DNS:pypi.test,DNS:registry.test,DNS:other.test" \
    >/dev/null 2>&1 || fail "openssl req"
"$PY" "$ORIGIN" "$TMP/root" "$CA" "$TMP/key.pem" >"$TMP/port" &
SRV=$!
for _ in $(seq 100); do
    PORT=$(head -n 1 "$TMP/port")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || fail "the server did not start"

show() {
    printf '\n--- stdout (first 2000 bytes):\n%s\n--- stderr (last 4000 bytes):\n%s\n' \
        "$(head -c 2000 "$TMP/out")" "$(tail -c 4000 "$TMP/err")"
}

# sbx NAME OPTIONS... -- COMMAND...: COMMAND in the sandbox with NAME granted
# on the server's port and pinned to 127.0.0.1; the JSON in $TMP/json.
sbx() {
    local name=$1
    shift
    (cd "$TMP/work" && "$SBX" run --json --workdir "$TMP/work" --env "HOME=$TMP/work" \
        --allow-host "$name:$PORT" --resolve "$name:127.0.0.1" "$@") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    # The result is stderr's last line, whole, also after a child killed at a
    # quota in the middle of a line of its own.
    tail -n 1 "$TMP/err" >"$TMP/json"
}

# network_check WHAT MIN_BYTES_DOWN [DENIED_HOST]: the JSON's network report:
# a connection and at least MIN_BYTES_DOWN down, no refusal; or, with
# DENIED_HOST, no connection and every refusal that host on the server's port.
network_check() {
    "$PY" - "$TMP/json" "$2" "$PORT" "${3:-}" <<'EOF' || fail "$1: the JSON's network report$(show)"
import json, sys
net = json.load(open(sys.argv[1]))["network"]
down, port, denied = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if denied:
    ok = net["connections"] == 0 and net["denied_count"] >= 1 and all(
        (d["host"], d["port"], d["reason"]) == (denied, port, "host not allowed")
        for d in net["denied"])
else:
    ok = net["connections"] >= 1 and net["bytes_down"] >= down and net["denied_count"] == 0
if not ok:
    print("network:", json.dumps(net), file=sys.stderr)
    sys.exit(1)
EOF
}

# allowed_and_refused NAME GOT WANT OPTIONS... -- COMMAND... (with @BASE@ and
# @DEST@ in COMMAND): the granted name fetches GOT (beneath @DEST@), the
# server's WANT, byte for byte, in the default and the minimal isolation;
# other.test is refused.
allowed_and_refused() {
    local name=$1 got=$2 want=$3
    shift 3
    local size
    size=$(stat -c %s "$TMP/root/$want")
    local iso run
    for iso in default minimal refused; do
        local host=$name args=()
        [ "$iso" = refused ] && host=other.test
        local a
        for a in "$@"; do
            a=${a//@BASE@/https://$host:$PORT}
            args+=("${a//@DEST@/$TMP/work/$iso}")
        done
        run=()
        [ "$iso" = minimal ] && run=(--isolation minimal)
        sbx "$name" "${run[@]}" "${args[@]}"
        if [ "$iso" = refused ]; then
            [ "$rc" -ne 0 ] || fail "refused: exit status 0$(show)"
            [ ! -e "$TMP/work/$iso/$got" ] || fail "refused: $got was fetched"
            network_check refused 0 other.test
        else
            [ "$rc" -eq 0 ] || fail "$iso: exit status $rc$(show)"
            cmp -s "$TMP/work/$iso/$got" "$TMP/root/$want" || fail "$iso: $got is not the server's $want$(show)"
            network_check "$iso" "$size"
        fi
    done
}

case_git_clone_https() {
    allowed_and_refused git.test data.bin git-src/data.bin \
        --tool git --rx /usr/lib/git-core --ro "$CA" --env "GIT_SSL_CAINFO=$CA" -- \
        git clone -q @BASE@/git/demo.git @DEST@
}

case_pip_download_https() {
    "$PY" -m pip --version >/dev/null 2>&1 || skip "$PY -m pip: not installed (python3-pip)"
    allowed_and_refused pypi.test agentsbx_demo-1.0-py3-none-any.whl \
        files/agentsbx_demo-1.0-py3-none-any.whl \
        --tool "$PY" --ro "$CA" --env "PIP_CERT=$CA" -- \
        "$PY" -m pip download --no-cache-dir --disable-pip-version-check --retries 0 \
        --index-url @BASE@/simple -d @DEST@ agentsbx-demo
}

case_npm_install_https() {
    command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || skip "npm is not installed"
    allowed_and_refused registry.test node_modules/agentsbx-demo/data.bin npm-src/data.bin \
        --tool node --tool npm --rx /usr/lib/node_modules --ro "$CA" \
        --env "npm_config_cafile=$CA" -- \
        npm install --prefix @DEST@ --cache @DEST@/.npm --registry @BASE@/ --no-audit --no-fund \
        --fetch-retries=0 agentsbx-demo
}

# --net-bytes and --net-connections: the quotas of sbx_limit_network_bytes()
# and sbx_limit_connections() from the command line. A download past the byte
# quota ends with status network_limit and the quota named; a second
# connection past a quota of one is refused. The control: the same commands
# without the options succeed.
case_quotas() {
    local url=https://pypi.test:$PORT/files/agentsbx_demo-1.0-py3-none-any.whl
    local curl=(--tool curl --ro "$CA" -- curl -sS --cacert "$CA" -o /dev/null)
    sbx pypi.test "${curl[@]}" "$url"
    [ "$rc" -eq 0 ] || fail "control: exit status $rc$(show)"
    sbx pypi.test --net-bytes 100K:200 "${curl[@]}" "$url"
    "$PY" - "$TMP/json" <<'EOF' || fail "--net-bytes 100K:200$(show)"
import json, sys
d = json.load(open(sys.argv[1]))
net = d["network"]
assert d["status"] == "network_limit", d["status"]
assert net["quota_hit"] == "bytes_down" and net["bytes_down"] <= 200, net
EOF
    local twice=(--tool curl --tool sh --ro "$CA" -- sh -c
        "curl -sS --cacert '$CA' -o /dev/null $url && curl -sS --cacert '$CA' -o /dev/null $url")
    sbx pypi.test "${twice[@]}"
    [ "$rc" -eq 0 ] || fail "control: two connections: exit status $rc$(show)"
    sbx pypi.test --net-connections 1 "${twice[@]}"
    "$PY" - "$TMP/json" <<'EOF' || fail "--net-connections 1$(show)"
import json, sys
d = json.load(open(sys.argv[1]))
net = d["network"]
assert d["status"] == "network_limit", d["status"]
assert net["quota_hit"] == "connections" and net["connections"] == 1, net
assert [x["reason"] for x in net["denied"]] == ["connection quota exhausted"], net
EOF
    "$SBX" run --net-rate 1 --allow-host a.test -- /bin/true 2>"$TMP/err"
    [ $? -eq 125 ] && grep -q "sbx_limit_network_rate: 1 bytes/s is out of range" "$TMP/err" ||
        fail "--net-rate 1: $(cat "$TMP/err")"
    "$SBX" run --net-bytes 10:x -- /bin/true 2>"$TMP/err"
    [ $? -eq 125 ] && grep -q "invalid size or UP:DOWN '10:x'" "$TMP/err" ||
        fail "--net-bytes 10:x: $(cat "$TMP/err")"
}

if ! declare -F "case_$CASE" >/dev/null; then
    echo "no case $CASE" >&2
    exit 2
fi
"case_$CASE"
