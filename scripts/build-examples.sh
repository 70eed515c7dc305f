#!/usr/bin/env bash
# Builds the example plugins written in other languages than Rust (plugins/examples/*) into
# WebAssembly components:
#
# * JavaScript (a package.json): componentize-js, through `jco componentize`. Each example pins
#   its tools in its package.json and package-lock.json. They are installed once with `npm ci`
#   into a cache outside the repository, $WAXWING_CACHE/node (default ~/.cache/waxwing/node), in
#   a directory keyed by the locked packages, and shared by every example that locks the same
#   ones.
# * Python (a pyproject.toml with a [tool.waxwing] table): componentize-py, at the version the
#   example pins in its `build` dependency group. It is not installed here: it comes from PATH
#   (`python3 -m pip install componentize-py==VERSION`, as .ci/run does), from
#   $WAXWING_COMPONENTIZE_PY, or from the venv scripts/check-wit-bindings.sh installs.
#
#   scripts/build-examples.sh [EXAMPLE...]     default: every example
#
# A component is built again only when one of its inputs changed: the example's files (not its
# fixtures, scripts or docs), the WIT, this script, and the tool versions (for JavaScript the
# lock file and the Node major version).
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

NODE_MAJOR=
need_node() {
    [[ -n $NODE_MAJOR ]] && return
    command -v node >/dev/null || die "Node.js (20 or newer) is needed to build the JavaScript examples"
    command -v npm >/dev/null || die "npm is needed to install componentize-js and jco"
    NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
    ((NODE_MAJOR >= 20)) || die "Node.js $(node --version) is too old: 20 or newer is needed"
}

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
    # The locked packages, without the example's own name and version, so that examples
    # locking the same tools share one installation.
    key=$(node -e 'const l = require(process.argv[1]); const root = l.packages?.[""] ?? {};
                   const packages = { ...l.packages, "": { dependencies: root.dependencies, devDependencies: root.devDependencies } };
                   console.log(JSON.stringify({ lockfileVersion: l.lockfileVersion, packages }));' "$lock" |
        sha256sum | cut -c1-12)
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

# inputs_digest DIR TOOLS: the inputs of one example's component, as one digest. TOOLS names
# the tools and their versions.
inputs_digest() {
    local dir=$1 tools=$2
    {
        echo "$tools"
        sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
        (cd "$ROOT" && find wit -name '*.wit' -type f -print0 | sort -z | xargs -0 sha256sum)
        (cd "$dir" && find . \( -path ./node_modules -o -path ./dist -o -path ./fixtures -o -path ./scripts \
            -o -path ./tests -o -name __pycache__ -o -name '.*' \) -prune -o -type f ! -name '*.md' -print0 |
            sort -z | xargs -0 sha256sum)
    } | sha256sum | cut -d' ' -f1
}

# up_to_date NAME DIGEST: true (and reported) when $OUT/NAME.wasm was built from DIGEST.
up_to_date() {
    local wasm="$OUT/$1.wasm" stamp="$OUT/$1.stamp"
    mkdir -p "$OUT"
    if [[ -f $wasm && -f $stamp && $(<"$stamp") == "$2" ]]; then
        report "$wasm" "up to date"
        return 0
    fi
    rm -f "$stamp"
    return 1
}

build_js() {
    local dir=$1 name world source env jco digest wasm stamp
    need_node
    name=$(basename "$dir")
    world=$(package_field "$dir/package.json" waxwing.world) ||
        die "$dir/package.json has no waxwing.world (workload, traffic or policy)"
    source=$(package_field "$dir/package.json" waxwing.source) ||
        die "$dir/package.json has no waxwing.source (the module that exports the world's interface)"
    [[ -f $dir/$source ]] || die "$dir/$source does not exist"
    env=$(install_tools "$dir")
    jco="$env/node_modules/.bin/jco"
    digest=$(inputs_digest "$dir" "node $NODE_MAJOR tools $(basename "$env") disable ${DISABLE[*]}")
    wasm="$OUT/$name.wasm"
    stamp="$OUT/$name.stamp"
    up_to_date "$name" "$digest" && return
    log "componentizing $name ($world world, JavaScript) ..."
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

# The [tool.waxwing] settings of a Python example and its componentize-py pin, as shell
# assignments: world, app, python_path, componentize_py_version.
python_settings() {
    python3 - "$1/pyproject.toml" <<'PY'
import re, shlex, sys
try:
    import tomllib
except ImportError:
    sys.exit("python3 3.11 or newer is needed to read pyproject.toml (tomllib)")
path = sys.argv[1]
with open(path, "rb") as f:
    project = tomllib.load(f)
settings = project.get("tool", {}).get("waxwing", {})
def need(key, what):
    value = settings.get(key)
    if not isinstance(value, str) or not value:
        sys.exit(f"{path} has no [tool.waxwing] {key} ({what})")
    return value
pins = [m.group(1) for dep in project.get("dependency-groups", {}).get("build", [])
        if isinstance(dep, str) and (m := re.fullmatch(r"\s*componentize-py\s*==\s*([^\s;]+)\s*", dep))]
if len(pins) != 1:
    sys.exit(f'{path} does not pin componentize-py in [dependency-groups] build (build = ["componentize-py==0.25.1"])')
for key, value in (("world", need("world", "workload, traffic or policy")),
                   ("app", need("app", "the module defining the class that exports the world's interface")),
                   ("python_path", settings.get("python-path", "."))):
    print(f"{key}={shlex.quote(value)}")
print(f"componentize_py_version={shlex.quote(pins[0])}")
PY
}

# find_componentize_py VERSION: prints a componentize-py command of exactly that version.
find_componentize_py() {
    local version=$1 candidate
    for candidate in "${WAXWING_COMPONENTIZE_PY:-}" "$(command -v componentize-py || true)" \
        "$CACHE/python/componentize-py-$version/bin/componentize-py"; do
        [[ -n $candidate && -x $candidate ]] || continue
        if [[ $("$candidate" --version 2>/dev/null) == "componentize-py $version" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    local found=""
    command -v componentize-py >/dev/null && found=" (found $(componentize-py --version 2>/dev/null || echo "an unusable one") on PATH)"
    die "componentize-py $version is needed to build the Python examples$found: install it with
    python3 -m pip install componentize-py==$version
(what .ci/run does), or point WAXWING_COMPONENTIZE_PY at one"
}

build_python() {
    local dir=$1 name world app python_path componentize_py_version cpy digest wasm stamp settings
    name=$(basename "$dir")
    command -v python3 >/dev/null || die "python3 (3.11 or newer) is needed to read $dir/pyproject.toml"
    settings=$(python_settings "$dir") || die "cannot read the build settings of $name"
    eval "$settings"
    [[ -f $dir/$python_path/$app.py || -f $dir/$python_path/$app/__init__.py ]] ||
        die "$dir/$python_path has no module $app (pyproject.toml [tool.waxwing] app and python-path)"
    cpy=$(find_componentize_py "$componentize_py_version")
    digest=$(inputs_digest "$dir" "componentize-py $componentize_py_version")
    wasm="$OUT/$name.wasm"
    stamp="$OUT/$name.stamp"
    up_to_date "$name" "$digest" && return
    log "componentizing $name ($world world, Python) ..."
    # componentize-py also bundles what the app imports from the current Python's site-packages;
    # an empty virtual environment keeps the build to the example's own files.
    local empty="$CACHE/python/empty-venv"
    mkdir -p "$empty/lib/python/site-packages"
    local t0=$SECONDS tmp="$wasm.tmp.$$" out
    if ! out=$(cd "$dir" && VIRTUAL_ENV=$empty "$cpy" -d "$ROOT/wit" -w "$world-plugin" componentize \
        -p "$python_path" "$app" -o "$tmp" 2>&1); then
        rm -f "$tmp"
        echo "$out" >&2
        die "componentize-py of $name failed"
    fi
    mv "$tmp" "$wasm"
    echo "$digest" >"$stamp"
    report "$wasm" "built in $((SECONDS - t0))s"
}

# The language of an example directory: js, python, or nothing.
language() {
    if [[ -f $1/package.json ]]; then
        echo js
    elif [[ -f $1/pyproject.toml ]] && grep -q '^\[tool\.waxwing\]' "$1/pyproject.toml"; then
        echo python
    fi
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
        [[ -n $(language "$EXAMPLES_DIR/$name") ]] ||
            die "no example $name in $EXAMPLES_DIR (a directory with a package.json, or a pyproject.toml with [tool.waxwing])"
        examples+=("$EXAMPLES_DIR/$name")
    done
else
    for dir in "$EXAMPLES_DIR"/*/; do
        [[ -n $(language "$dir") ]] && examples+=("${dir%/}")
    done
fi
((${#examples[@]} > 0)) || die "no example in $EXAMPLES_DIR"
for dir in "${examples[@]}"; do
    "build_$(language "$dir")" "$dir"
done
