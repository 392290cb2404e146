#!/usr/bin/env bash
# Build orgsim's wheel, install it in a fresh venv outside the repository and use it as a user
# would, from an empty folder: list and run the packaged presets, run a tiny experiment, serve the
# UI, and find py.typed. Fails loudly on the first problem; deletes its temp folders on exit.
#
#   bash scripts/test-wheel.sh        (or `make test-wheel`)
#
# PYTHON: the interpreter for the fresh venv (default: python3, must be >= 3.12).
# BUILD_PIP: the pip that builds the wheel (default: the repository's .venv/bin/pip).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
BUILD_PIP="${BUILD_PIP:-$ROOT/.venv/bin/pip}"
UI_TIMEOUT=90

say() { printf 'test-wheel [%3d s]: %s\n' "$SECONDS" "$*"; }
fail() { printf 'test-wheel: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'printf "test-wheel: FAILED: line %s: %s (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR

TMP="$(mktemp -d "${TMPDIR:-/tmp}/orgsim-wheel.XXXXXX")"
UI_PGID=""
BUILD_DIR_EXISTED=0
[[ -e "$ROOT/build" ]] && BUILD_DIR_EXISTED=1

stop_ui() {
    [[ -n "$UI_PGID" ]] || return 0
    kill -TERM -- "-$UI_PGID" 2>/dev/null || true
    for _ in $(seq 50); do
        pgrep -g "$UI_PGID" >/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$UI_PGID" 2>/dev/null || true
    sleep 0.2
    UI_PGID_STOPPED="$UI_PGID"
    UI_PGID=""
}

cleanup() {
    local status=$?
    trap - ERR
    stop_ui
    # setuptools builds in ./build of the source tree: remove it unless it was there before
    if [[ $BUILD_DIR_EXISTED -eq 0 && -d "$ROOT/build" ]]; then rm -rf "$ROOT/build"; fi
    rm -rf "$TMP"
    if [[ $status -eq 0 ]]; then say "OK (${SECONDS} s)"; else say "FAILED after ${SECONDS} s (exit $status)" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v "$PYTHON" >/dev/null || fail "no interpreter '$PYTHON'; set PYTHON to a Python >= 3.12"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 12))' || fail "$PYTHON is older than Python 3.12"
[[ -x "$BUILD_PIP" ]] || fail "no pip at $BUILD_PIP: run \`make .venv/.installed\` first, or set BUILD_PIP"
command -v curl >/dev/null || fail "curl is needed to poll the UI"

say "building the wheel"
(cd "$ROOT" && "$BUILD_PIP" wheel . --no-deps --quiet -w "$TMP/dist")
WHEELS=("$TMP"/dist/orgsim-*.whl)
[[ ${#WHEELS[@]} -eq 1 && -f "${WHEELS[0]}" ]] || fail "expected one orgsim wheel in $TMP/dist, found: ${WHEELS[*]}"
WHEEL="${WHEELS[0]}"
say "built $(basename "$WHEEL")"

say "installing it in a fresh venv outside the repository (dependencies from the registry)"
"$PYTHON" -m venv "$TMP/venv"
VENV_BIN="$TMP/venv/bin"
"$VENV_BIN/pip" install --quiet --disable-pip-version-check "$WHEEL"
ORGSIM="$VENV_BIN/orgsim"
[[ -x "$ORGSIM" ]] || fail "the wheel installed no orgsim command"

mkdir "$TMP/work"
cd "$TMP/work"  # an empty folder: nothing of the repository can be found from here
PKG_DIR="$("$VENV_BIN/python" -c 'import orgsim, pathlib; print(pathlib.Path(orgsim.__file__).parent)')"
[[ "$PKG_DIR" == "$TMP/venv/"* ]] || fail "orgsim imports from $PKG_DIR, not from the fresh venv"

say "orgsim scenarios"
"$ORGSIM" scenarios | tee "$TMP/scenarios.txt"
grep -q '^ *siloed ' "$TMP/scenarios.txt" || fail "\`orgsim scenarios\` does not list the preset siloed"
grep -q '^ *multiplier_led ' "$TMP/scenarios.txt" || fail "\`orgsim scenarios\` does not list multiplier_led"

say "orgsim run siloed --steps 8"
"$ORGSIM" run siloed --steps 8
for f in results/runs/siloed_seed42/timeseries.parquet results/runs/siloed_seed42/run.json; do
    [[ -s "$f" ]] || fail "\`orgsim run siloed\` did not write $f"
done

say "a scenario file of the user's own that extends a packaged preset"
printf 'description = "mine"\nextends = "siloed"\nsteps = 6\n' > my_firm.toml
"$ORGSIM" validate my_firm.toml

say "orgsim experiment (2 scenarios x 2 seeds x 4 weeks) and orgsim report"
cat > tiny.toml <<'EOF'
description = "Wheel smoke test: two presets, two seeds, four weeks."
scenarios = ["siloed", "multiplier_led"]
replications = 2
master_seed = 1
steps = 4
record_every = 1
outputs = ["mean_attitude", "net_promoter_score"]
EOF
# a hang (as once in the pool's shutdown) fails here within minutes rather than using up CI's time
timeout --signal=INT --kill-after=15 300 "$ORGSIM" experiment tiny.toml --workers 2 --out results/tiny \
    || fail "\`orgsim experiment\` failed or took more than 300 s (exit $?)"
[[ -s results/tiny/experiment.json ]] || fail "\`orgsim experiment\` wrote no results/tiny/experiment.json"
PARTS=(results/tiny/runs/*/part-*.parquet)
[[ ${#PARTS[@]} -eq 2 ]] || fail "expected one Parquet part per scenario in results/tiny/runs, found ${#PARTS[@]}"
ROWS="$("$VENV_BIN/python" -c 'import pyarrow.dataset as ds; print(ds.dataset("results/tiny/runs", partitioning=None).count_rows())')"
[[ "$ROWS" == 20 ]] || fail "expected 20 rows (4 runs x 5 weeks) in results/tiny/runs, found $ROWS"
"$ORGSIM" report results/tiny
[[ -s results/tiny/report.md ]] || fail "\`orgsim report\` wrote no results/tiny/report.md"

say "orgsim ui"
PORT="$("$VENV_BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
set -m  # job control: the UI gets a process group of its own, so all of it can be stopped
"$ORGSIM" ui --host 127.0.0.1 --port "$PORT" > "$TMP/ui.log" 2>&1 &
UI_PGID=$!
set +m
URL="http://127.0.0.1:$PORT/"
code=000
deadline=$((SECONDS + UI_TIMEOUT))
while ((SECONDS < deadline)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL" || true)"
    [[ "$code" == 200 ]] && break
    if ! kill -0 "$UI_PGID" 2>/dev/null; then
        cat "$TMP/ui.log" >&2
        fail "\`orgsim ui\` exited before serving $URL"
    fi
    sleep 1
done
if [[ "$code" != 200 ]]; then
    cat "$TMP/ui.log" >&2
    fail "\`orgsim ui\` did not answer HTTP 200 on $URL within ${UI_TIMEOUT} s (last: $code)"
fi
say "the UI answered HTTP 200 on $URL"
stop_ui
if pgrep -g "$UI_PGID_STOPPED" >/dev/null || pgrep -f "solara run orgsim.ui.app .*--port $PORT( |$)" >/dev/null; then
    pgrep -af "solara run orgsim.ui.app" >&2 || true
    fail "a process of \`orgsim ui\` (solara) survived being stopped"
fi
say "the UI stopped; no solara process left"

say "py.typed"
"$VENV_BIN/python" -c "import importlib.resources as r; assert (r.files('orgsim')/'py.typed').is_file()" \
    || fail "the installed package has no py.typed"
