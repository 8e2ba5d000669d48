#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man page: groff (and mandoc, when installed) find nothing to warn about, `man` renders
# every section, and it documents what the binary really has: each option `--help` lists,
# each field of the `mockit` table and each timer method, and the version.
#
#   tests/packaging/test_manpage.sh MAN_PAGE MOCKIT_RUN VERSION
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 3 $# MAN_PAGE MOCKIT_RUN VERSION
page=$1 mockit_run=$2 version=$3
need_tool groff man

warnings=$(groff -man -ww -z "$page" 2>&1) || die "groff failed: $warnings"
[[ -z "$warnings" ]] || die "groff -ww warns:"$'\n'"$warnings"
ok "groff -man -ww: no warning"

# mandoc's STYLE messages (line length, ...) are advice; warnings and errors fail.
if command -v mandoc >/dev/null; then
    lint=$(mandoc -T lint -W warning "$page" 2>&1) || die "mandoc -T lint:"$'\n'"$lint"
    ok "mandoc -T lint: no warning"
else
    echo "note: mandoc is not installed; its lint is skipped"
fi

# Rendered at 80 columns, with its warnings apart: mixed into the text they would split words.
render_warnings=$(mktemp)
rendered=$(MANWIDTH=80 man -l "$page" 2>"$render_warnings")
warned=$(<"$render_warnings")
rm -f "$render_warnings"
[[ -z "$warned" ]] || die "man -l warns at 80 columns:"$'\n'"$warned"
ok "man -l at 80 columns: no warning"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS "THE LUA API" "EXIT STATUS" SIGNALS \
    ENVIRONMENT SYSTEMD FILES EXAMPLES "SEE ALSO"; do
    grep -qx "$section" <<<"$rendered" || die "the rendered page has no section $section"
done
ok "man -l renders every section"

th_version=$(sed -n 's/^\.TH [^"]*"mockit-run \([^"]*\)".*/\1/p' "$page")
expect_equals "$th_version" "$version" "the version in .TH"
expect_contains "$("$mockit_run" --version)" "mockit-run $version" "mockit-run --version"
ok "the page is for version $version"

# Options as `--help` lists them: "  -e CHUNK ...", "  -v,--version", "  --no-loop".
options=$(sed -n 's/^  \(-[-a-z,]*\).*/\1/p' <<<"$("$mockit_run" --help)" | tr ',' '\n')
(($(wc -l <<<"$options") >= 10)) || die "--help lists too few options: $options"
option_section=$(sed -n '/^OPTIONS$/,/^THE LUA API$/p' <<<"$rendered")
for option in $options; do
    grep -qE -- "(^|[ ,])${option}( |,|$)" <<<"$option_section" ||
        die "OPTIONS does not document $option (from --help)"
done
ok "OPTIONS documents all $(wc -w <<<"$options") options of --help"

# The module's own fields, timer and task methods, as the binary has them.
api=$("$mockit_run" -e '
    local names = {}
    for k in pairs(mockit) do names[#names + 1] = "mockit." .. k end
    for k in pairs(mockit.log) do names[#names + 1] = "mockit.log." .. k end
    for k in pairs(mockit.clock) do names[#names + 1] = "mockit.clock." .. k end
    local t = mockit.oneoff(0, function() end)
    for k in pairs(getmetatable(t).__index) do names[#names + 1] = "t:" .. k end
    t:destroy()
    local task = mockit.spawn(function() end)
    for k in pairs(getmetatable(task).__index) do names[#names + 1] = "task:" .. k end
    table.sort(names)
    print(table.concat(names, "\n"))' </dev/null)
(($(wc -l <<<"$api") >= 20)) || die "too few API names read from mockit-run: $api"
api_section=$(sed -n '/^THE LUA API$/,/^EXIT STATUS$/p' <<<"$rendered")
for name in $api; do
    if [[ "$name" == mockit.log.* ]]; then
        grep -qE "mockit\.log\.[a-z|]*\b${name#mockit.log.}\b" <<<"$api_section" ||
            die "THE LUA API does not document $name"
    else
        grep -qF -- "$name" <<<"$api_section" || die "THE LUA API does not document $name"
    fi
done
ok "THE LUA API documents all $(wc -l <<<"$api") fields and methods"
