#!/usr/bin/env bash
# Copy the generated CRDs (deploy/crds, written by `make crds`) into the Helm chart's crds/.
#   deploy/helm/sync-crds.sh          copy (removing copies of CRDs that no longer exist)
#   deploy/helm/sync-crds.sh --check  exit 1 and say which files differ, copy nothing
set -euo pipefail
DEPLOY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$DEPLOY/crds"
DST="$DEPLOY/helm/waxwing/crds"

if [ "${1:-}" = --check ]; then
  if diff -r "$SRC" "$DST" >/dev/null; then
    echo "deploy/helm/waxwing/crds equals deploy/crds"
    exit 0
  fi
  echo "deploy/helm/waxwing/crds differs from deploy/crds (run deploy/helm/sync-crds.sh):" >&2
  diff -rq "$SRC" "$DST" >&2 || true
  exit 1
fi
[ $# -eq 0 ] || { echo "usage: $0 [--check]" >&2; exit 2; }

mkdir -p "$DST"
for f in "$DST"/*.yaml; do
  if [ -e "$f" ] && [ ! -e "$SRC/$(basename "$f")" ]; then rm -v "$f"; fi
done
cp -v "$SRC"/*.yaml "$DST"/
