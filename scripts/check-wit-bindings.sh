#!/usr/bin/env bash
# Checks that every world of the plugin contract (wit/) generates guest bindings for Python
# (componentize-py) and JavaScript (jco guest-types), the two non-Rust guest languages
# Waxwing supports. Fails loudly, with the generator's output, when any world does not.
#
#   scripts/check-wit-bindings.sh [OUT_DIR]
#
# The tools are installed once, at pinned versions, into a cache outside the repository
# ($WAXWING_CACHE, default ~/.cache/waxwing). Bindings go to OUT_DIR (default
# $WAXWING_CACHE/bindings). A world whose WIT and tool versions are unchanged since its last
# successful generation is not generated again, so a second run takes a moment.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1
# jco 1.35.0's `types`/`guest-types` cannot read any file: the preview2-shim it pulls in gives
# the bindings generator no filesystem preopens. 1.34.0 works.
JCO_VERSION=1.34.0
WORLDS=(workload-plugin traffic-plugin policy-plugin)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WIT="$ROOT/wit"
CACHE=${WAXWING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waxwing}
OUT=${1:-$CACHE/bindings}
PY_ENV="$CACHE/python/componentize-py-$COMPONENTIZE_PY_VERSION"
JS_ENV="$CACHE/node/jco-$JCO_VERSION"
COMPONENTIZE_PY="$PY_ENV/bin/componentize-py"
JCO="$JS_ENV/node_modules/.bin/jco"

die() {
    echo "check-wit-bindings: $*" >&2
    exit 1
}

install_tools() {
    if [[ ! -x $COMPONENTIZE_PY ]]; then
        command -v python3 >/dev/null || die "python3 is needed to install componentize-py"
        echo "installing componentize-py $COMPONENTIZE_PY_VERSION into $PY_ENV"
        rm -rf "$PY_ENV"
        python3 -m venv "$PY_ENV" || die "cannot create a Python venv in $PY_ENV"
        "$PY_ENV/bin/pip" install --quiet --disable-pip-version-check \
            "componentize-py==$COMPONENTIZE_PY_VERSION" ||
            die "cannot install componentize-py $COMPONENTIZE_PY_VERSION from PyPI"
    fi
    if [[ ! -x $JCO ]]; then
        command -v npm >/dev/null || die "npm is needed to install jco"
        echo "installing @bytecodealliance/jco $JCO_VERSION into $JS_ENV"
        rm -rf "$JS_ENV"
        mkdir -p "$JS_ENV"
        npm install --prefix "$JS_ENV" --no-audit --no-fund --loglevel=error --save-exact \
            "@bytecodealliance/jco@$JCO_VERSION" >/dev/null ||
            die "cannot install @bytecodealliance/jco $JCO_VERSION from npm"
    fi
}

# Identifies the inputs of one generation: the WIT files and the tool versions.
inputs_digest() {
    {
        echo "componentize-py $COMPONENTIZE_PY_VERSION jco $JCO_VERSION"
        find "$WIT" -name '*.wit' -type f -print0 | sort -z | xargs -0 sha256sum | sed "s|$WIT/||"
    } | sha256sum | cut -d' ' -f1
}

# generate LANGUAGE WORLD PATTERN COMMAND...: runs COMMAND into $OUT/LANGUAGE/WORLD and counts
# the files matching PATTERN. Prints the count; returns non-zero when the generator failed or
# wrote no such file.
generate() {
    local language=$1 world=$2 pattern=$3
    shift 3
    local dir="$OUT/$language/$world" stamp="$OUT/$language/$world.stamp" log="$OUT/$language/$world.log"
    if [[ -f $stamp && $(<"$stamp") == "$DIGEST" && -d $dir ]]; then
        find "$dir" -name "$pattern" -type f | wc -l
        return 0
    fi
    rm -rf "$dir" "$stamp"
    mkdir -p "$OUT/$language"
    if ! "$@" "$dir" >"$log" 2>&1; then
        echo 0
        return 1
    fi
    local count
    count=$(find "$dir" -name "$pattern" -type f | wc -l)
    if ((count == 0)); then
        echo "no $pattern file was generated" >>"$log"
        echo 0
        return 1
    fi
    echo "$DIGEST" >"$stamp"
    echo "$count"
}

python_bindings() { "$COMPONENTIZE_PY" -d "$WIT" -w "$1" bindings "$2"; }
# jco resolves the WIT path itself; run it from the repository so paths stay short.
js_types() { (cd "$ROOT" && "$JCO" guest-types wit -n "$1" -o "$2" -q); }

[[ -d $WIT ]] || die "no WIT directory at $WIT"
install_tools
DIGEST=$(inputs_digest)

failed=()
printf '%-18s %-22s %-22s\n' WORLD "PYTHON ($COMPONENTIZE_PY_VERSION)" "JAVASCRIPT (jco $JCO_VERSION)"
for world in "${WORLDS[@]}"; do
    row=()
    for language in python js; do
        if [[ $language == python ]]; then
            count=$(generate python "$world" '*.py' python_bindings "$world") && status=ok || status=FAILED
        else
            count=$(generate js "$world" '*.d.ts' js_types "$world") && status=ok || status=FAILED
        fi
        if [[ $status == ok ]]; then
            row+=("ok, $count files")
        else
            row+=(FAILED)
            failed+=("$language/$world")
        fi
    done
    printf '%-18s %-22s %-22s\n' "$world" "${row[0]}" "${row[1]}"
done

if ((${#failed[@]} > 0)); then
    for failure in "${failed[@]}"; do
        echo >&2
        echo "=== $failure: generator output ($OUT/$failure.log)" >&2
        cat "$OUT/$failure.log" >&2
    done
    die "${#failed[@]} of $((${#WORLDS[@]} * 2)) bindings did not generate: ${failed[*]}"
fi
echo "all ${#WORLDS[@]} worlds generate Python and JavaScript bindings (in $OUT)"
