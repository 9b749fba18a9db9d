#!/bin/sh
# Compile the public headers with a strict compiler and run the result.
#   check-headers.sh c   CC  SRC_INCLUDE BUILD_INCLUDE LIBDIR SOURCE OUTDIR [FLAGS]
#   check-headers.sh c++ CXX SRC_INCLUDE BUILD_INCLUDE LIBDIR SOURCE OUTDIR [FLAGS]
# In C, each header is also compiled on its own (each must be self-contained).
set -eu
lang=$1 cc=$2 inc=$3 geninc=$4 libdir=$5 source=$6 out=$7
extra=${8:-}
mkdir -p "$out"
if [ "$lang" = c ]; then
  std="-x c -std=c99"
  for h in "$inc"/agentsbx/*.h; do
    name=$(basename "$h")
    printf '#include <agentsbx/%s>\n' "$name" >"$out/only-$name.c"
    # shellcheck disable=SC2086
    "$cc" $std -pedantic -Werror -Wall -Wextra -I"$inc" -I"$geninc" -fsyntax-only "$out/only-$name.c" \
      || { echo "headers: agentsbx/$name does not compile on its own as C99" >&2; exit 1; }
  done
else
  std="-x c++ -std=c++11"
fi
# shellcheck disable=SC2086
"$cc" $std -pedantic -Werror -Wall -Wextra $extra -I"$inc" -I"$geninc" -o "$out/$lang-headers" "$source" \
  -x none -L"$libdir" -lagentsbx -Wl,-rpath,"$libdir"
"$out/$lang-headers"
