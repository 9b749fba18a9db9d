#!/bin/sh
# test_docs__manpage: docs/agentsbx.1 renders with groff without a warning, and
# stays in step with the CLI:
#   - every command that `agentsbx --help` lists is in the page's SYNOPSIS;
#   - every long option that `agentsbx --help` or `agentsbx COMMAND --help`
#     (run, check, ...) prints is named in the page;
#   - every long option the page names is one the CLI prints (no stale ones);
#   - the version in the page's title line is `agentsbx --version`'s.
# Usage: check-manpage.sh AGENTSBX MANPAGE
set -eu
cli=$1 page=$2
status=0
fail() { echo "manpage: FAIL: $*" >&2; status=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# groff: -ww every warning, -z no output; warnings go to stderr.
if ! LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" >"$tmp/groff.out" 2>&1; then
  fail "groff failed on $page"; cat "$tmp/groff.out" >&2
fi
if [ -s "$tmp/groff.out" ]; then
  fail "groff warns about $page:"; cat "$tmp/groff.out" >&2
fi

opts() { grep -oE -- '--[a-z][a-z-]*[a-z]' | sort -u; }
# The commands, from the "Commands:" list of `agentsbx --help`; each must be in
# the page's SYNOPSIS, and its --help is read for options.
"$cli" --help >"$tmp/help-top" || fail "agentsbx --help exited $?"
cmds=$(sed -n '/^Commands:/,/^$/{/^  [a-z]/s/^  \([a-z-]*\).*/\1/p}' "$tmp/help-top")
echo "$cmds" | grep -qx run || fail "no 'run' among the commands of agentsbx --help: $cmds"
for cmd in $cmds; do
  grep -q "^\.B $cmd\$" "$page" || fail "command '$cmd' is not in the SYNOPSIS of $page"
  [ "$cmd" != help ] || continue
  "$cli" "$cmd" --help >"$tmp/help-$cmd" || { fail "agentsbx $cmd --help exited $?"; continue; }
done
for f in "$tmp"/help-*; do opts <"$f" >"$f.opts"; done
sort -u "$tmp"/help-*.opts >"$tmp/cli-opts"
[ "$(wc -l <"$tmp/cli-opts")" -ge 20 ] || fail "found only $(wc -l <"$tmp/cli-opts") options in --help"
# In roff a long option is written \-\-name (a hyphen as \- or plain -).
sed 's/\\-/-/g' "$page" | opts >"$tmp/page-opts"

missing=$(comm -23 "$tmp/cli-opts" "$tmp/page-opts")
[ -z "$missing" ] || fail "options printed by --help but not in $page:" $missing
stale=$(comm -13 "$tmp/cli-opts" "$tmp/page-opts")
[ -z "$stale" ] || fail "options in $page that no --help prints:" $stale

version=$("$cli" --version | awk '{print $2}')
grep -q "^\.TH AGENTSBX 1 .*\"agentsbx $version\"" "$page" \
  || fail "the .TH line of $page does not say agentsbx $version"

[ $status -ne 0 ] || echo "manpage: $(wc -l <"$tmp/cli-opts") options, groff clean, version $version"
exit $status
