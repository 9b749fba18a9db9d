#!/usr/bin/env bash
# Install what libagentsbx needs to build and test, from Debian's packages.
# Idempotent; runs as root, or through sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config        # toolchain
  libseccomp-dev                          # the seccomp layer
  libjson-c-dev                           # policy files (JSON)
  libc-ares-dev                           # the egress broker's asynchronous DNS
  libidn2-dev                             # the egress broker: IDNA host names
  libunistring-dev                        # libidn2's static link (pkg-config --static)
  clang libclang-rt-14-dev                # libFuzzer targets (scripts/fuzz.sh)
  libcmocka-dev                           # C tests
  doxygen                                 # API docs (warnings are errors)
  groff-base                              # renders the CLI's man page in its test
  valgrind                                # memcheck over the unit tests
  curl openssl git ca-certificates        # the egress broker's live tests: clients, a TLS certificate
  python3 python3-pytest python3-setuptools  # Python bindings, their tests and packaging
  python3-venv                            # the wheel's fresh-venv install test (pip from ensurepip)
  python3-pip                             # pip download through the egress broker (test_clients)
  python3-mypy                            # mypy --strict over the package, in the suite
  util-linux passwd                       # runuser, setpriv, useradd for unprivileged runs
  bubblewrap firejail                     # peers, for the benchmarks only
  git procps bsdutils                     # the must-work suite's workloads (node and npm: when installed)
)

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
