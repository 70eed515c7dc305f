#!/usr/bin/env bash
# Build (or reuse from the cache) the binaries of the local test control plane:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd (tests/cluster/k8s)
#   kruise-manager, kwok
# Binaries are cached outside the clone in $WAXWING_CACHE (default ~/.cache/waxwing)/cluster,
# keyed by versions, go.mod/go.sum, this script and `go version`; a cached piece is not rebuilt.
# Prints the bin dir (symlinks named after each command) as the last line on stdout.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_go
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"
mkdir -p "$CACHE_ROOT" "$STATE_DIR/logs"

# go.mod must match versions.env.
grep -qE "^[[:space:]]*k8s.io/kubernetes $K8S_VERSION( |$)" "$CLUSTER_DIR/k8s/go.mod" \
  || die "tests/cluster/k8s/go.mod does not require k8s.io/kubernetes $K8S_VERSION (versions.env)"
grep -qE "^[[:space:]]*github.com/openkruise/kruise $KRUISE_VERSION( |$)" "$CLUSTER_DIR/kruise/go.mod" \
  || die "tests/cluster/kruise/go.mod does not require github.com/openkruise/kruise $KRUISE_VERSION (versions.env)"

k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
K8S_LDFLAGS="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS="$K8S_LDFLAGS -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
  K8S_LDFLAGS="$K8S_LDFLAGS -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000"
  K8S_LDFLAGS="$K8S_LDFLAGS -X $p.buildDate=1970-01-01T00:00:00Z"
done

# Each build_* runs as an `if` condition, where `set -e` does not apply: chain with &&.
build_k8s() { # $1 = output dir
  # One go build for all five commands: shared packages are compiled once, then five links.
  # (A multi-call "hyperkube" binary was measured: it saves ~40 s of linking on a cold
  # build and ~230 MB of disk, but costs ~160 MB more RSS at run time (etcd 61->129 MB,
  # kube-scheduler 61->105 MB, kube-controller-manager 107->146 MB), so it is not used.)
  # etcd's main package is the root of module go.etcd.io/etcd/server/v3: go names it "server".
  (cd "$CLUSTER_DIR/k8s" && go build -trimpath -ldflags "$K8S_LDFLAGS" -o "$1/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3) \
    && mv "$1/server" "$1/etcd"
}
build_kruise() {
  (cd "$CLUSTER_DIR/kruise" && go build -trimpath -ldflags "-s -w" -o "$1/kruise-manager" github.com/openkruise/kruise)
}
build_kwok() {
  # Separate module graph (kwok's own go.mod, no replaces), verified against the checksum DB.
  (cd "$CLUSTER_DIR" && GOFLAGS=-buildvcs=false GOBIN="$1" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
}
declare -A OUTPUTS=([k8s]="kube-apiserver kube-controller-manager kube-scheduler kubectl etcd"
  [kruise]="kruise-manager" [kwok]="kwok")

# ensure NAME KEY -> prints the cached dir holding NAME's binaries, building it if needed.
ensure() {
  local name="$1" key="$2" dir="$CACHE_ROOT/$1-$2" blog="$STATE_DIR/logs/build-$1.log"
  if [ ! -e "$dir/.complete" ]; then
    exec 9>"$CACHE_ROOT/$name.lock"
    flock 9 # another build of the same piece (e.g. a parallel make) finishes first
    if [ ! -e "$dir/.complete" ]; then
      log "building $name (key $key, log: $blog) ..."
      local t0=$SECONDS tmp="$dir.tmp.$$"
      rm -rf "$tmp"; mkdir -p "$tmp"
      local ok=1 f
      "build_$name" "$tmp" >"$blog" 2>&1 || ok=0
      for f in ${OUTPUTS[$name]}; do
        [ -x "$tmp/$f" ] || { ok=0; echo "build.sh: $tmp/$f was not produced" >>"$blog"; }
      done
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

K8S_DIR="$(ensure k8s "$(key_k8s)")"
KRUISE_DIR="$(ensure kruise "$(key_kruise)")"
KWOK_DIR="$(ensure kwok "$(key_kwok)")"

# One bin dir with every command, keyed by the three pieces.
BIN_DIR="$CACHE_ROOT/bin-$(printf '%s\n' "$K8S_DIR" "$KRUISE_DIR" "$KWOK_DIR" | sha256sum | cut -c1-16)"
if [ ! -e "$BIN_DIR/.complete" ]; then
  tmp="$BIN_DIR.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  for f in "$K8S_DIR"/* "$KRUISE_DIR"/* "$KWOK_DIR"/*; do ln -s "$f" "$tmp/$(basename "$f")"; done
  touch "$tmp/.complete"
  rm -rf "$BIN_DIR"; mv "$tmp" "$BIN_DIR" 2>/dev/null || rm -rf "$tmp" # lost a race: fine
fi
mkdir -p "$STATE_DIR"
ln -sfn "$BIN_DIR" "$STATE_DIR/bin"
printf '%s\n' "$BIN_DIR"
