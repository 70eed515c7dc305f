#!/usr/bin/env bash
# Build (or reuse from the cache) the tools that check deploy/: helm and cue.
#   helm  helm.sh/helm/v3/cmd/helm@$HELM_VERSION
#   cue   cuelang.org/go/cmd/cue@$CUE_VERSION
# Binaries are cached outside the clone in $WAXWING_CACHE (default ~/.cache/waxwing)/tools,
# keyed by the tool's version, this script and `go version`; a cached tool is not rebuilt.
# GOTOOLCHAIN=local: the Go on PATH builds them, nothing else is downloaded.
# Prints the bin dir (symlinks named after each command) as the last line on stdout.
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TOOLS_DIR/../.." && pwd)"
# shellcheck source=versions.env
. "$TOOLS_DIR/versions.env"

export GOTOOLCHAIN=local
export CGO_ENABLED=0
CACHE_ROOT="${WAXWING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waxwing}/tools"
LOGS="${WAXWING_CLUSTER_STATE:-$REPO_ROOT/target/cluster}/logs"

log() { printf '[tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH (need go >= 1.26; GOTOOLCHAIN=local)"
GOVERSION="$(go env GOVERSION)" || die "'go env GOVERSION' failed: is Go installed correctly?"
case "$GOVERSION" in
  go1.2[6-9]* | go1.[3-9][0-9]*) ;;
  *) die "Go $GOVERSION is too old: helm $HELM_VERSION needs go >= 1.26 (GOTOOLCHAIN=local)" ;;
esac
mkdir -p "$CACHE_ROOT" "$LOGS"

# A key per tool: its version, the Go version/platform and this script (flags).
key() { # NAME VERSION
  { printf '%s %s %s/%s\n' "$1" "$2" "$GOVERSION" "$(go env GOOS)/$(go env GOARCH)"
    cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16
}

# Each build_* runs as an `if` condition, where `set -e` does not apply: chain with &&.
build_helm() { # $1 = output dir
  # The -X flags are those of helm's own Makefile: `helm version` tells the truth, and the
  # default Kubernetes version of `helm template`/`helm lint` (.Capabilities.KubeVersion) is
  # the one of the client-go helm is built with (v0.N.x -> 1.N), as in a release build.
  local dir client_go major minor p flags
  dir="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')" \
    && client_go="$(sed -n 's|^[[:space:]]*k8s.io/client-go v\([0-9]*\)\.\([0-9]*\)\..*|\1 \2|p' "$dir/go.mod")" \
    && read -r major minor <<<"$client_go" && [ -n "$minor" ] \
    && flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    && for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      flags="$flags -X $p.k8sVersionMajor=$((major + 1)) -X $p.k8sVersionMinor=$minor"
    done \
    && GOFLAGS=-buildvcs=false GOBIN="$1" go install -trimpath -ldflags "$flags" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}
build_cue() {
  # cue reads its version from the module's build info (go install MODULE@VERSION records it).
  GOFLAGS=-buildvcs=false GOBIN="$1" go install -trimpath -ldflags "-s -w" \
    "cuelang.org/go/cmd/cue@$CUE_VERSION"
}

# ensure NAME VERSION -> prints the cached dir holding NAME, building it if needed.
ensure() {
  local name="$1" version="$2" k dir blog
  k="$(key "$name" "$version")"
  dir="$CACHE_ROOT/$name-$version-$k"
  blog="$LOGS/build-tool-$name.log"
  if [ ! -e "$dir/.complete" ]; then
    exec 9>"$CACHE_ROOT/$name.lock"
    flock 9 # another build of the same tool (e.g. a parallel make) finishes first
    if [ ! -e "$dir/.complete" ]; then
      log "building $name $version with $GOVERSION (log: $blog) ..."
      local t0=$SECONDS tmp="$dir.tmp.$$" ok=1
      rm -rf "$tmp"; mkdir -p "$tmp"
      # Run from a directory with no go.mod: go install MODULE@VERSION uses the tool's own.
      (cd "$CACHE_ROOT" && "build_$name" "$tmp") >"$blog" 2>&1 || ok=0
      [ -x "$tmp/$name" ] || { ok=0; echo "build.sh: $tmp/$name was not produced" >>"$blog"; }
      if [ "$ok" != 1 ]; then
        rm -rf "$tmp"
        tail -n 30 "$blog" >&2 || true
        die "build of $name failed after $((SECONDS - t0))s; full log: $blog"
      fi
      rm -rf "$dir"; mv "$tmp" "$dir"; touch "$dir/.complete"
      log "built $name in $((SECONDS - t0))s -> $dir"
    fi
    exec 9>&-
  fi
  printf '%s\n' "$dir"
}

HELM_DIR="$(ensure helm "$HELM_VERSION")"
CUE_DIR="$(ensure cue "$CUE_VERSION")"

BIN_DIR="$CACHE_ROOT/bin-$(printf '%s\n' "$HELM_DIR" "$CUE_DIR" | sha256sum | cut -c1-16)"
if [ ! -e "$BIN_DIR/.complete" ]; then
  tmp="$BIN_DIR.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  ln -s "$HELM_DIR/helm" "$tmp/helm"
  ln -s "$CUE_DIR/cue" "$tmp/cue"
  touch "$tmp/.complete"
  rm -rf "$BIN_DIR"; mv "$tmp" "$BIN_DIR" 2>/dev/null || rm -rf "$tmp" # lost a race: fine
fi
printf '%s\n' "$BIN_DIR"
