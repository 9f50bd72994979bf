#!/usr/bin/env bash
# Build the documentation site into site/ with one command.
#
#   bash scripts/docs.sh                  # build (mkdocs --strict: any warning fails)
#   bash scripts/docs.sh --calibration    # first regenerate docs/calibration.md (about 10 s)
#   bash scripts/docs.sh --validation     # first regenerate docs/validation.md (long runs)
#   bash scripts/docs.sh serve            # live preview on http://127.0.0.1:8000
#   bash scripts/docs.sh build -d /tmp/site   # further arguments go to mkdocs
#
# - .venv with the docs extra (scripts/bootstrap.sh; quick when nothing changed);
# - the ODD's parameter tables regenerated from the configuration schema
#   (scripts/gen_param_tables.py: only the generated blocks of docs/odd.md change);
# - with --calibration: docs/calibration.md from `zonesim calibrate --format markdown`;
# - mkdocs build --strict (MkDocs + Material + mkdocstrings; configuration in mkdocs.yml).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "docs.sh: $*" >&2; }

calibration=0
validation=0
args=()
for a in "$@"; do
    if [[ "$a" == "--calibration" ]]; then
        calibration=1
    elif [[ "$a" == "--validation" ]]; then
        validation=1
    else
        args+=("$a")
    fi
done
if [[ ${#args[@]} -eq 0 ]]; then
    args=(build)
fi

# .venv with the docs extra. When its tools already import (e.g. test.sh installed every extra)
# the bootstrap is skipped, so the two scripts do not reinstall over each other's extras.
py="$root/.venv/bin/python"
if ! "$py" -c "import zonesim, mkdocs, material, mkdocstrings_handlers.python" >/dev/null 2>&1; then
    bash scripts/bootstrap.sh "${ZONESIM_DOCS_EXTRAS:-test,docs}"
fi

export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$root/.numba_cache}"
mkdir -p "$NUMBA_CACHE_DIR"
# Material for MkDocs prints a banner about MkDocs 2.0 on every build; the site is built with
# MkDocs 1.6 (pinned below 2 in pyproject.toml).
export NO_MKDOCS_2_WARNING=1

"$py" scripts/gen_param_tables.py
if [[ $calibration == 1 ]]; then
    say "regenerating docs/calibration.md (zonesim calibrate)"
    "$py" scripts/gen_calibration_md.py
fi
if [[ $validation == 1 ]]; then
    say "regenerating docs/validation.md (20-year runs: tens of minutes on 2 cores)"
    "$py" scripts/gen_validation_md.py
fi

case "${args[0]}" in
    build) "$py" -m mkdocs build --strict "${args[@]:1}" ;;
    serve) "$py" -m mkdocs serve --strict "${args[@]:1}" ;;
    *) "$py" -m mkdocs "${args[@]}" ;;
esac
if [[ "${args[0]}" == "build" ]]; then
    say "built site/ (open site/index.html)"
fi
