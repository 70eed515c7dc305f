#!/usr/bin/env bash
# Builds the example plugins written in JavaScript (plugins/examples/*/package.json) into
# WebAssembly components with componentize-js, through `jco componentize`.
#
#   scripts/build-examples.sh [EXAMPLE...]     default: every example
#
# Each example pins its tools in its package.json and package-lock.json. They are installed
# once with `npm ci` into a cache outside the repository, $WAXWING_CACHE/node (default
# ~/.cache/waxwing/node), in a directory keyed by the lock file, and shared by every example
# with the same lock. A component is built again only when one of its inputs changed: the
# example's files, the WIT, the lock file, this script or the Node major version.
#
# Output: $WAXWING_EXAMPLES_OUT/<example>.wasm (default <repo>/target/examples), one line per
# example with its size and sha256 (the value to pin in the plugin ConfigMap).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXAMPLES_DIR="$ROOT/plugins/examples"
CACHE=${WAXWING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waxwing}
OUT=${WAXWING_EXAMPLES_OUT:-$ROOT/target/examples}
# The WASI a plugin can use is a frozen, empty sandbox: leave out what would only be stubbed.
# stdio stays, so an uncaught error reaches stderr, which the host shows when a call traps.
DISABLE=(random clocks http fetch-event)

die() {
    echo "build-examples: $*" >&2
    exit 1
}
log() { echo "build-examples: $*" >&2; }

command -v node >/dev/null || die "Node.js (20 or newer) is needed to build the JavaScript examples"
command -v npm >/dev/null || die "npm is needed to install componentize-js and jco"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
((NODE_MAJOR >= 20)) || die "Node.js $(node --version) is too old: 20 or newer is needed"

# The value of a field of a package.json, by a JavaScript path (`waxwing.world`).
package_field() {
    node -e 'const p = require(process.argv[1]); const v = process.argv[2].split(".").reduce((o, k) => o?.[k], p);
             if (typeof v !== "string" || v === "") { process.exit(1); } console.log(v);' "$1" "$2"
}

# install_tools EXAMPLE_DIR: installs the example's locked tools unless already cached; prints
# the directory holding node_modules/.bin/jco.
install_tools() {
    local dir=$1 lock="$1/package-lock.json"
    [[ -f $lock ]] || die "$dir has no package-lock.json: its tools would not be pinned"
    local jco_version cjs_version key env
    jco_version=$(package_field "$dir/package.json" 'devDependencies.@bytecodealliance/jco') ||
        die "$dir/package.json does not pin @bytecodealliance/jco in devDependencies"
    cjs_version=$(package_field "$dir/package.json" 'devDependencies.@bytecodealliance/componentize-js') ||
        die "$dir/package.json does not pin @bytecodealliance/componentize-js in devDependencies"
    key=$(sha256sum <"$lock" | cut -c1-12)
    env="$CACHE/node/componentize-js-$cjs_version-jco-$jco_version-$key"
    if [[ ! -e $env/.complete ]]; then
        mkdir -p "$CACHE/node"
        exec 9>"$env.lock"
        flock 9 # a parallel build installs the same tools: wait for it
        if [[ ! -e $env/.complete ]]; then
            log "installing componentize-js $cjs_version and jco $jco_version into $env"
            local tmp="$env.tmp.$$" t0=$SECONDS
            rm -rf "$tmp"
            mkdir -p "$tmp"
            cp "$dir/package.json" "$lock" "$tmp/"
            if ! (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
                tail -n 30 "$tmp/npm.log" >&2
                rm -rf "$tmp"
                die "npm ci of componentize-js $cjs_version / jco $jco_version failed"
            fi
            touch "$tmp/.complete"
            rm -rf "$env"
            mv "$tmp" "$env"
            log "installed in $((SECONDS - t0))s"
        fi
        exec 9>&-
    fi
    printf '%s\n' "$env"
}

# The inputs of one example's component, as one digest.
inputs_digest() {
    local dir=$1 env=$2
    {
        echo "node $NODE_MAJOR tools $(basename "$env") disable ${DISABLE[*]}"
        sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
        (cd "$ROOT" && find wit -name '*.wit' -type f -print0 | sort -z | xargs -0 sha256sum)
        (cd "$dir" && find . \( -path ./node_modules -o -path ./dist -o -path ./fixtures -o -path ./scripts \) -prune \
            -o -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum)
    } | sha256sum | cut -d' ' -f1
}

build() {
    local dir=$1 name world source env jco digest wasm stamp
    name=$(basename "$dir")
    world=$(package_field "$dir/package.json" waxwing.world) ||
        die "$dir/package.json has no waxwing.world (workload, traffic or policy)"
    source=$(package_field "$dir/package.json" waxwing.source) ||
        die "$dir/package.json has no waxwing.source (the module that exports the world's interface)"
    [[ -f $dir/$source ]] || die "$dir/$source does not exist"
    env=$(install_tools "$dir")
    jco="$env/node_modules/.bin/jco"
    digest=$(inputs_digest "$dir" "$env")
    wasm="$OUT/$name.wasm"
    stamp="$OUT/$name.stamp"
    mkdir -p "$OUT"
    if [[ -f $wasm && -f $stamp && $(<"$stamp") == "$digest" ]]; then
        report "$wasm" "up to date"
        return
    fi
    rm -f "$stamp"
    log "componentizing $name ($world world) ..."
    local t0=$SECONDS tmp="$wasm.tmp.$$" out bundle=(--bundle)
    # componentize-js takes one module: --bundle (Rolldown) joins the example's modules and npm
    # dependencies into one; the example's bundle.config.js keeps the host's imports external.
    [[ -f $dir/bundle.config.js ]] && bundle+=(--bundle-config "${dir#"$ROOT"/}/bundle.config.js")
    # Run from the repository so that jco sees short relative paths.
    if ! out=$(cd "$ROOT" && "$jco" componentize "${dir#"$ROOT"/}/$source" --wit wit \
        --world-name "$world-plugin" --disable "${DISABLE[@]}" "${bundle[@]}" --out "$tmp" 2>&1); then
        rm -f "$tmp"
        echo "$out" >&2
        die "jco componentize of $name failed"
    fi
    mv "$tmp" "$wasm"
    echo "$digest" >"$stamp"
    report "$wasm" "built in $((SECONDS - t0))s"
}

report() {
    local size sha
    size=$(stat -c %s "$1")
    sha=$(sha256sum "$1" | cut -d' ' -f1)
    printf '%s: %s KiB, sha256 %s (%s)\n' "${1#"$ROOT"/}" "$((size / 1024))" "$sha" "$2"
}

examples=()
if (($# > 0)); then
    for name in "$@"; do
        [[ -f $EXAMPLES_DIR/$name/package.json ]] || die "no JavaScript example $name in $EXAMPLES_DIR"
        examples+=("$EXAMPLES_DIR/$name")
    done
else
    for manifest in "$EXAMPLES_DIR"/*/package.json; do
        [[ -f $manifest ]] && examples+=("$(dirname "$manifest")")
    done
fi
((${#examples[@]} > 0)) || die "no example with a package.json in $EXAMPLES_DIR"
for dir in "${examples[@]}"; do
    build "$dir"
done
