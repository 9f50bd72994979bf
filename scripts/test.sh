#!/usr/bin/env bash
# Set up everything the test suite needs, then run it. Arguments go to pytest:
#
#   bash scripts/test.sh                      # the whole suite
#   bash scripts/test.sh tests/test_config.py -x -q
#
# - .venv with Python 3.12 and zonesim installed with the extras the tests use (scripts/bootstrap.sh);
# - Debian's chromium for the real-browser dashboard tests, when they are wanted
#   (ZONESIM_BROWSER_TESTS=1, and always under CI=true): installed with apt-get when missing and we
#   are root; its path is exported as ZONESIM_CHROMIUM;
# - NUMBA_CACHE_DIR in the repository (.numba_cache, ignored by git).
# A run that collects no tests fails (pytest's exit code 5), so an empty suite never passes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "test.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# Extras of pyproject.toml the test suite imports.
TEST_EXTRAS="test,dashboard,cluster,sensitivity,fit,interop,docs"
bash scripts/bootstrap.sh "$TEST_EXTRAS"

# --- chromium for the real-browser tests ------------------------------------------------------
want_browser="${ZONESIM_BROWSER_TESTS:-}"
if [[ -z "$want_browser" ]]; then
    if [[ "${CI:-}" == "true" ]]; then want_browser=1; else want_browser=0; fi
fi
chromium=/usr/bin/chromium
if [[ "$want_browser" == 1 && ! -x "$chromium" ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's chromium for the browser tests (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq chromium; } \
            >/dev/null </dev/null || die "apt-get could not install chromium"
        [[ -x "$chromium" ]] || die "chromium was installed but $chromium is missing"
    else
        die "the browser tests need $chromium; install Debian's chromium (apt-get install \
chromium) as root, or set ZONESIM_BROWSER_TESTS=0 to skip those tests"
    fi
fi
if [[ -x "$chromium" ]]; then
    export ZONESIM_CHROMIUM="$chromium"
fi
export ZONESIM_BROWSER_TESTS="$want_browser"

# --- numba's on-disk cache inside the repository ----------------------------------------------
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$root/.numba_cache}"
mkdir -p "$NUMBA_CACHE_DIR"

# --- the tests --------------------------------------------------------------------------------
set +e
"$root/.venv/bin/python" -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    say "error: pytest collected no tests (exit code 5); a suite that runs nothing is a failure"
fi
exit $rc
