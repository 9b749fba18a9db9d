#!/bin/sh
# test_packaging__install_and_consume: install this build tree into a temporary
# prefix and use it as an outsider would.
#   1. `cmake --install BUILD --prefix BUILD/pkgtest/prefix`; check every file
#      (headers, libraries with their SONAME links, CLI, man page, .pc, CMake
#      package);
#   2. build consumer.c with pkg-config (shared, and static through
#      Requires.private/Libs.private) and run it;
#   3. build it with find_package(agentsbx CONFIG) via CMAKE_PREFIX_PATH
#      (agentsbx::agentsbx and agentsbx::agentsbx_static) and run both;
#   4. run the installed CLI, which must find the installed library by RPATH.
# Everything is removed afterwards (KEEP=1 keeps it).
# Usage: run.sh BUILD_DIR SOURCE_DIR CMAKE CC LIBDIR INCLUDEDIR BINDIR MANDIR VERSION [CFLAGS]
set -eu
build=$1 src=$2 cmake=$3 cc=$4 libdir=$5 incdir=$6 bindir=$7 mandir=$8 version=$9
shift 9
extra=${1:-} # -fsanitize=... for a sanitized build, whose library needs its runtime

work=$build/pkgtest
prefix=$work/prefix
manifest=$build/install_manifest.txt
fail() { echo "packaging: FAIL: $*" >&2; exit 1; }
# loads_installed BIN: BIN's libagentsbx.so.N resolves to the installed file.
loads_installed() {
  got=$(ldd "$1" | awk '$1 == "libagentsbx.so.'"$major"'" { print $3 }')
  [ -n "$got" ] && [ "$(readlink -f "$got")" = "$(readlink -f "$lib/libagentsbx.so.$version")" ]
}
cleanup() {
  if [ -e "$work/manifest.saved" ]; then mv -f "$work/manifest.saved" "$manifest"; else rm -f "$manifest"; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "packaging: kept $work"; else rm -rf "$work"; fi
}
rm -rf "$work"
mkdir -p "$work"
[ ! -e "$manifest" ] || cp -p "$manifest" "$work/manifest.saved"
trap cleanup EXIT
unset LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH

# ---- 1. install -----------------------------------------------------------
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "cmake --install failed"; }
echo "packaging: installed into $prefix"

for h in "$src"/include/agentsbx/*.h; do
  [ -f "$prefix/$incdir/agentsbx/$(basename "$h")" ] || fail "header $(basename "$h") not installed"
done
[ -f "$prefix/$incdir/agentsbx/version.h" ] || fail "generated version.h not installed"
grep -q "\"$version\"" "$prefix/$incdir/agentsbx/version.h" || fail "installed version.h is not $version"

lib=$prefix/$libdir
major=${version%%.*}
[ -f "$lib/libagentsbx.so.$version" ] && [ ! -L "$lib/libagentsbx.so.$version" ] \
  || fail "$lib/libagentsbx.so.$version missing"
[ "$(readlink "$lib/libagentsbx.so.$major")" = "libagentsbx.so.$version" ] \
  || fail "libagentsbx.so.$major is not a link to libagentsbx.so.$version"
[ "$(readlink "$lib/libagentsbx.so")" = "libagentsbx.so.$major" ] \
  || fail "libagentsbx.so is not a link to libagentsbx.so.$major"
readelf -d "$lib/libagentsbx.so.$version" | grep -q "(SONAME).*\[libagentsbx.so.$major\]" \
  || fail "SONAME of the installed library is not libagentsbx.so.$major"
[ -f "$lib/libagentsbx.a" ] || fail "static library not installed"
[ -x "$prefix/$bindir/agentsbx" ] || fail "CLI not installed"
[ -f "$prefix/$mandir/man1/agentsbx.1" ] || fail "man page not installed"
[ -f "$lib/pkgconfig/agentsbx.pc" ] || fail "agentsbx.pc not installed"
for f in agentsbxConfig.cmake agentsbxConfigVersion.cmake agentsbxTargets.cmake; do
  [ -f "$lib/cmake/agentsbx/$f" ] || fail "$libdir/cmake/agentsbx/$f not installed"
done

# ---- 2. pkg-config ----------------------------------------------------------
export PKG_CONFIG_PATH=$lib/pkgconfig
pc_version=$(pkg-config --modversion agentsbx) || fail "pkg-config does not find agentsbx"
[ "$pc_version" = "$version" ] || fail "pkg-config says version $pc_version, expected $version"
[ "$(pkg-config --variable=prefix agentsbx)" = "$prefix" ] \
  || fail "agentsbx.pc has prefix $(pkg-config --variable=prefix agentsbx), expected $prefix"
shared_libs=$(pkg-config --libs agentsbx)
static_libs=$(pkg-config --static --libs agentsbx)
case " $shared_libs " in *" -lseccomp "*) fail "pkg-config --libs leaks the private -lseccomp: $shared_libs" ;; esac
case " $static_libs " in *" -lseccomp "*) ;; *) fail "pkg-config --static --libs lacks -lseccomp: $static_libs" ;; esac

# shellcheck disable=SC2046,SC2086 # word splitting of flags is intended
"$cc" $extra -std=c99 -Wall -Wextra -Werror -o "$work/consumer-pc" "$src/tests/packaging/consumer.c" \
  $(pkg-config --cflags --libs agentsbx) || fail "pkg-config consumer does not build"
LD_LIBRARY_PATH=$lib "$work/consumer-pc" || fail "pkg-config consumer failed"
LD_LIBRARY_PATH=$lib loads_installed "$work/consumer-pc" \
  || fail "pkg-config consumer did not load the installed library"

# Static: the whole archive (so that every object's dependencies must be met), then what
# `--static` adds for it (Requires.private, Libs.private).
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c99 -Wall -Wextra -Werror -o "$work/consumer-pc-static" "$src/tests/packaging/consumer.c" \
  $(pkg-config --cflags agentsbx) -Wl,--whole-archive "$lib/libagentsbx.a" -Wl,--no-whole-archive \
  $(echo "$static_libs" | sed 's/-lagentsbx\b//') \
  || fail "static pkg-config consumer does not link with 'pkg-config --static --libs': $static_libs"
if readelf -d "$work/consumer-pc-static" | grep -q "NEEDED.*libagentsbx"; then
  fail "static consumer needs libagentsbx.so"
fi
"$work/consumer-pc-static" || fail "static pkg-config consumer failed"
unset PKG_CONFIG_PATH

# ---- 3. find_package ----------------------------------------------------------
"$cmake" -S "$src/tests/packaging/cmake-consumer" -B "$work/cmake-consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" -DSBX_EXPECT_VERSION="$version" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$extra -Wall -Wextra -Werror" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
  >"$work/cmake-consumer.log" 2>&1 || { cat "$work/cmake-consumer.log"; fail "find_package consumer does not configure"; }
grep -q "agentsbx_DIR:PATH=$lib/cmake/agentsbx" "$work/cmake-consumer/CMakeCache.txt" \
  || fail "find_package did not use the installed package"
"$cmake" --build "$work/cmake-consumer" >>"$work/cmake-consumer.log" 2>&1 \
  || { cat "$work/cmake-consumer.log"; fail "find_package consumer does not build"; }
# No LD_LIBRARY_PATH: CMake gives the consumer an RPATH to the imported library.
"$work/cmake-consumer/consumer_shared" || fail "find_package consumer (shared) failed"
loads_installed "$work/cmake-consumer/consumer_shared" \
  || fail "find_package consumer did not load the installed library"
"$work/cmake-consumer/consumer_static" || fail "find_package consumer (static) failed"

# The version file: a version the package does not provide is refused.
"$cmake" -S "$src/tests/packaging/cmake-consumer" -B "$work/cmake-consumer-99" \
  -DCMAKE_PREFIX_PATH="$prefix" -DSBX_REQUIRE_VERSION=99.0 -DSBX_EXPECT_VERSION="$version" \
  -DCMAKE_C_COMPILER="$cc" >"$work/cmake-99.log" 2>&1 \
  && fail "find_package(agentsbx 99.0) accepted version $version"
grep -q 'compatible with requested version "99.0"' "$work/cmake-99.log" \
  || { cat "$work/cmake-99.log"; fail "find_package(agentsbx 99.0) failed for another reason"; }

# ---- 4. the installed CLI -------------------------------------------------------
loads_installed "$prefix/$bindir/agentsbx" \
  || fail "installed CLI does not find the installed library by its RPATH"
cli_version=$("$prefix/$bindir/agentsbx" --version) || fail "installed CLI --version failed"
case $cli_version in *"$version"*) ;; *) fail "installed CLI --version says '$cli_version'" ;; esac
"$prefix/$bindir/agentsbx" run --quiet -- true || fail "installed CLI: run -- true exited $?"
echo "packaging: pkg-config (shared, static) and find_package (shared, static) consumers ran; CLI ok"
