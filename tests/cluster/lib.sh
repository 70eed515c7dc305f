# Common settings and helpers for tests/cluster/{build,up,down}.sh. Sourced, not executed.
# shellcheck shell=bash

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CLUSTER_DIR/../.." && pwd)"
# shellcheck source=versions.env
. "$CLUSTER_DIR/versions.env"

export GOTOOLCHAIN=local
# State of the running cluster (kubeconfig, logs, pids, pki), relative to the repo root.
STATE_DIR="${WAXWING_CLUSTER_STATE:-$REPO_ROOT/target/cluster}"
LOGS="$STATE_DIR/logs"
PIDS="$STATE_DIR/pids" # NAME.pid holds "pid starttime"; down.sh stops every process recorded
# Binary cache: outside the clone, shared by every clone on the machine.
CACHE_ROOT="${WAXWING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waxwing}/cluster"

# Fixed loopback ports below the Linux ephemeral range (32768+), overridable one by one
# or all at once with WAXWING_PORT_BASE.
PORT_BASE="${WAXWING_PORT_BASE:-29400}"
ETCD_PORT="${WAXWING_ETCD_PORT:-$((PORT_BASE + 79))}"
ETCD_PEER_PORT="${WAXWING_ETCD_PEER_PORT:-$((PORT_BASE + 80))}"
APISERVER_PORT="${WAXWING_APISERVER_PORT:-$((PORT_BASE + 43))}"
KCM_PORT="${WAXWING_KCM_PORT:-$((PORT_BASE + 57))}"
SCHEDULER_PORT="${WAXWING_SCHEDULER_PORT:-$((PORT_BASE + 59))}"
KWOK_PORT="${WAXWING_KWOK_PORT:-$((PORT_BASE + 50))}"
KRUISE_WEBHOOK_PORT="${WAXWING_KRUISE_WEBHOOK_PORT:-$((PORT_BASE + 76))}"
KRUISE_METRICS_PORT="${WAXWING_KRUISE_METRICS_PORT:-$((PORT_BASE + 81))}"
KRUISE_HEALTH_PORT="${WAXWING_KRUISE_HEALTH_PORT:-$((PORT_BASE + 82))}"
PROMETHEUS_PORT="${WAXWING_PROMETHEUS_PORT:-$((PORT_BASE + 88))}"
# Where the analysis tests find Prometheus: its address, and the file_sd directory their
# metrics endpoints register in.
PROMETHEUS_STATE="$STATE_DIR/prometheus"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 \
    || die "Go is not installed or not on PATH (need go >= 1.26 to build the test control plane; GOTOOLCHAIN=local)"
  local v
  v="$(go env GOVERSION 2>/dev/null)" || die "'go env GOVERSION' failed: is Go installed correctly?"
  case "$v" in
    go1.2[6-9]* | go1.[3-9][0-9]*) ;;
    *) die "Go $v is too old: the test control plane (k8s $K8S_VERSION) needs go >= 1.26 (GOTOOLCHAIN=local)" ;;
  esac
}

sha_of() { cat "$@" | sha256sum | cut -c1-16; }

# Cache keys, one per independently built piece. Each covers the versions, the module
# files, the build script itself (flags) and the Go version/platform.
go_id() { printf '%s %s/%s' "$(go env GOVERSION)" "$(go env GOOS)" "$(go env GOARCH)"; }
key_k8s() {
  { go_id; echo "$K8S_VERSION"; cat "$CLUSTER_DIR/k8s/go.mod" "$CLUSTER_DIR/k8s/go.sum" \
      "$CLUSTER_DIR/build.sh"; } | sha256sum | cut -c1-16
}
key_kruise() {
  { go_id; echo "$KRUISE_VERSION"; cat "$CLUSTER_DIR/kruise/go.mod" "$CLUSTER_DIR/kruise/go.sum" \
      "$CLUSTER_DIR/build.sh"; } | sha256sum | cut -c1-16
}
key_kwok() {
  { go_id; echo "$KWOK_VERSION"; cat "$CLUSTER_DIR/build.sh"; } | sha256sum | cut -c1-16
}

# Directory of the downloaded (read-only) module source, e.g. for CRDs and stages.
mod_dir() {
  local dir
  dir="$(cd "$CLUSTER_DIR/k8s" && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [ -n "$dir" ] && [ -d "$dir" ] || die "could not download Go module $1 (go mod download -json $1)"
  printf '%s\n' "$dir"
}

# crd_doc FILE NAME: prints the document of the multi-document YAML FILE (documents separated by
# "---" lines) whose metadata.name is NAME; fails when there is none.
crd_doc() {
  awk -v want="$2" '
    function flush() { if (found) { printf "%s", doc; done = 1 } doc = ""; found = 0; meta = 0 }
    /^---[[:space:]]*$/ { flush(); if (done) exit; next }
    { doc = doc $0 "\n" }
    /^[^ #]/ { meta = ($0 ~ /^metadata:[[:space:]]*$/) }
    meta && $0 == "  name: " want { found = 1 }
    END { if (!done) flush(); exit !done }
  ' "$1"
}

pid_alive() { # NAME -> true if the recorded process is still the one we started
  local f="$PIDS/$1.pid" pid start
  [ -f "$f" ] || return 1
  read -r pid start <"$f" || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$start" ]
}

# start_daemon NAME CMD... : run detached in its own session, log to $LOGS/NAME.log and record
# "pid starttime" (the start time guards against a reused pid). Fails if it exits at once.
# The daemon must not inherit fd 8 (up.sh's lock).
start_daemon() {
  local name="$1"; shift
  mkdir -p "$LOGS" "$PIDS"
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null 8>&- &
  local pid=$! start="" i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    start="$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" && [ -n "$start" ] && break
    sleep 0.05
  done
  [ -n "$start" ] || return 1
  echo "$pid $start" >"$PIDS/$name.pid"
}

recorded_pid() { # NAME -> the recorded pid
  local pid
  read -r pid _ <"$PIDS/$1.pid" && echo "$pid"
}

# stop_daemon NAME [SIGNAL]: send SIGNAL (default TERM) to the recorded process if it is still
# ours, wait up to 10 s, then SIGKILL; forget the record. Returns 1 if nothing was running.
stop_daemon() {
  local name="$1" signal="${2:-TERM}" pid ran=1
  if pid_alive "$name"; then
    ran=0
    pid="$(recorded_pid "$name")"
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$name" || break; sleep 0.1; done
    if pid_alive "$name"; then
      log "$name (pid $pid) still running 10s after SIG$signal: sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do pid_alive "$name" || break; sleep 0.1; done
    fi
  fi
  rm -f "$PIDS/$name.pid"
  return "$ran"
}

# prometheus_bin: the Prometheus binary of PROMETHEUS_DEB_VERSION (Debian's package; Go, linked
# against glibc only), unpacked into the cache on first use; or $WAXWING_PROMETHEUS_BIN. Prints
# its path. Needs no root and installs nothing: `apt-get download` of the one .deb (its
# Depends are the classic web UI's JS libraries, not needed), `dpkg-deb` extracts the binary.
# A machine whose apt lists are empty or stale (fresh CI image) gets private lists under the
# cache (`apt-get update` with Dir::State::Lists there, ~3 s) instead of touching /var/lib/apt.
prometheus_bin() {
  if [ -n "${WAXWING_PROMETHEUS_BIN:-}" ]; then
    [ -x "$WAXWING_PROMETHEUS_BIN" ] || die "WAXWING_PROMETHEUS_BIN=$WAXWING_PROMETHEUS_BIN is not an executable"
    printf '%s\n' "$WAXWING_PROMETHEUS_BIN"
    return 0
  fi
  local dir="$CACHE_ROOT/prometheus-$PROMETHEUS_DEB_VERSION"
  if [ ! -e "$dir/.complete" ]; then
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
      || die "apt-get and dpkg-deb are needed to fetch Debian's prometheus package (or set WAXWING_PROMETHEUS_BIN)"
    mkdir -p "$CACHE_ROOT"
    exec 9>"$CACHE_ROOT/prometheus.lock"
    flock 9 # a parallel cluster-up fetching the same version finishes first
    if [ ! -e "$dir/.complete" ]; then
      local t0=$SECONDS tmp="$dir.tmp.$$" apt_dir="$CACHE_ROOT/apt"
      # Downloads run as the sandbox user _apt when root: keep the dirs readable for it.
      local apt_opts=(-q -o "APT::Sandbox::User=$(id -un)")
      rm -rf "$tmp"; mkdir -p "$tmp"
      log "fetching Debian's prometheus $PROMETHEUS_DEB_VERSION (apt-get download)"
      if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download "prometheus=$PROMETHEUS_DEB_VERSION") >"$tmp/apt.log" 2>&1; then
        log "the system's apt lists lack prometheus=$PROMETHEUS_DEB_VERSION: apt-get update into $apt_dir"
        apt_opts+=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false")
        mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
        { apt-get "${apt_opts[@]}" update \
            && (cd "$tmp" && apt-get "${apt_opts[@]}" download "prometheus=$PROMETHEUS_DEB_VERSION"); } >>"$tmp/apt.log" 2>&1 || {
          cat "$tmp/apt.log" >&2
          rm -rf "$tmp"
          die "apt-get download prometheus=$PROMETHEUS_DEB_VERSION failed. Versions apt knows: $(apt-cache "${apt_opts[@]}" madison prometheus 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}')(a Debian bookworm point release may have replaced it: pin the new one in tests/cluster/versions.env)"
        }
      fi
      dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" ./usr/bin/prometheus \
        || { rm -rf "$tmp"; die "could not extract usr/bin/prometheus from the prometheus package"; }
      mv "$tmp/usr/bin/prometheus" "$tmp/prometheus"
      rm -rf "${tmp:?}/usr" "$tmp"/*.deb
      "$tmp/prometheus" --version >>"$tmp/apt.log" 2>&1 \
        || { cat "$tmp/apt.log" >&2; rm -rf "$tmp"; die "the extracted prometheus binary does not run"; }
      touch "$tmp/.complete"
      rm -rf "$dir"; mv "$tmp" "$dir"
      log "prometheus $PROMETHEUS_DEB_VERSION ready in $((SECONDS - t0))s -> $dir"
    fi
    exec 9>&-
  fi
  printf '%s\n' "$dir/prometheus"
}
