#!/usr/bin/env bash
# Copy the generated CRDs (deploy/crds, written by `make crds`) into the Helm chart's crds/ and
# into deploy/manifests/crds/, so each installs from its own directory (`helm install`,
# `kubectl apply -k deploy/manifests`) with no reference outside it.
#   deploy/sync-crds.sh          copy (removing copies of CRDs that no longer exist)
#   deploy/sync-crds.sh --check  exit 1 and say which copies differ, copy nothing
set -euo pipefail
DEPLOY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$DEPLOY/crds"
COPIES=("$DEPLOY/helm/waxwing/crds" "$DEPLOY/manifests/crds")

if [ "${1:-}" = --check ]; then
  status=0
  for dst in "${COPIES[@]}"; do
    if diff -r "$SRC" "$dst" >/dev/null; then
      echo "${dst#"$DEPLOY"/} equals crds"
    else
      echo "${dst#"$DEPLOY"/} differs from deploy/crds (run deploy/sync-crds.sh):" >&2
      diff -rq "$SRC" "$dst" >&2 || true
      status=1
    fi
  done
  exit "$status"
fi
[ $# -eq 0 ] || { echo "usage: $0 [--check]" >&2; exit 2; }

for dst in "${COPIES[@]}"; do
  mkdir -p "$dst"
  for f in "$dst"/*.yaml; do
    if [ -e "$f" ] && [ ! -e "$SRC/$(basename "$f")" ]; then rm -v "$f"; fi
  done
  cp -v "$SRC"/*.yaml "$dst"/
done
