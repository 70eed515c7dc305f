#!/usr/bin/env bash
# Checks that every built-in plugin's committed fixtures are what its make-fixtures.py writes:
# a fixture edited by hand, or a case added to the script but not regenerated, fails here with
# the difference. The scripts write into a scratch directory (FIXTURES_OUT), never the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for script in plugins/*/scripts/make-fixtures.py; do
  plugin=$(basename "$(dirname "$(dirname "$script")")")
  out="$scratch/$plugin"
  FIXTURES_OUT="$out" PYTHONDONTWRITEBYTECODE=1 python3 "$script" >/dev/null
  if diff -r "plugins/$plugin/fixtures" "$out" >"$scratch/$plugin.diff"; then
    echo "ok    $plugin: $(ls "$out" | wc -l) fixtures match $script"
  else
    echo "FAIL  $plugin: plugins/$plugin/fixtures differ from what $script writes:"
    head -40 "$scratch/$plugin.diff"
    status=1
  fi
done
exit $status
