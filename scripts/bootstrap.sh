#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv with Python 3.12 and install
# zonesim into it, editable, with the given extras.
#
#   bash scripts/bootstrap.sh                   # extras: test
#   bash scripts/bootstrap.sh test,dashboard    # or: bash scripts/bootstrap.sh test dashboard
#   bash scripts/bootstrap.sh none              # the package alone
#
# Idempotent: when .venv already holds an install made from the same pyproject.toml with the same
# extras, it does nothing (a stamp in .venv records what was installed). Quiet on success; pip's
# log is shown on failure. ZONESIM_PYTHON=/path/to/python3.12 picks the interpreter explicitly;
# ZONESIM_BOOTSTRAP_FORCE=1 reinstalls regardless of the stamp.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"

say() { echo "bootstrap: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# --- extras: "a,b" or "a b", sorted and deduplicated ----------------------------------------
extras_raw="${*:-test}"
extras="$(tr ', ' '\n\n' <<<"$extras_raw" | sed '/^$/d' | sort -u | paste -sd, -)"
if [[ "$extras" == "none" ]]; then
    extras=""
fi
if [[ -n "$extras" && ! "$extras" =~ ^[A-Za-z0-9_.,-]+$ ]]; then
    die "bad extras '$extras_raw' (expected names like test,dashboard)"
fi
spec="."
[[ -n "$extras" ]] && spec=".[$extras]"

# --- a working Python 3.12 ------------------------------------------------------------------
is312() { # "$@" is a command that runs Python; true when it runs and is 3.12
    "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' >/dev/null 2>&1
}
real_exe() { "$@" -c 'import sys; print(sys.executable)' 2>/dev/null; }

find_python() { # prints the absolute path of a working Python 3.12
    local v pyroot cand
    # 1. python3.12 on PATH, if it actually runs (a pyenv shim may exist and still fail).
    if is312 python3.12; then
        real_exe python3.12
        return
    fi
    # 2. pyenv: its shim works once PYENV_VERSION names an installed 3.12.x.
    if command -v pyenv >/dev/null 2>&1; then
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -rV); do
            if PYENV_VERSION="$v" is312 python3.12; then
                PYENV_VERSION="$v" real_exe python3.12
                return
            fi
        done
    fi
    # 3. pyenv's install folder directly (also when pyenv itself is not on PATH).
    pyroot="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
    for cand in $(ls -d "$pyroot"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -rV); do
        if is312 "$cand"; then
            real_exe "$cand"
            return
        fi
    done
    # 4. The system's.
    for cand in /usr/bin/python3.12 /usr/local/bin/python3.12; do
        if is312 "$cand"; then
            real_exe "$cand"
            return
        fi
    done
    return 1
}

# --- the virtual environment ----------------------------------------------------------------
if [[ -x "$venv/bin/python" ]] && is312 "$venv/bin/python"; then
    :
else
    if [[ -n "${ZONESIM_PYTHON:-}" ]]; then
        is312 "$ZONESIM_PYTHON" || die "ZONESIM_PYTHON=$ZONESIM_PYTHON is not a working Python 3.12"
        python="$(real_exe "$ZONESIM_PYTHON")"
    else
        python="$(find_python)" || die "no working Python 3.12 found (tried python3.12 on PATH, \
pyenv's 3.12.x, /usr/bin/python3.12). Install Python 3.12 or set ZONESIM_PYTHON=/path/to/python3.12."
    fi
    if [[ -e "$venv" ]]; then
        say "$venv is not a working Python 3.12 environment: recreating it"
        rm -rf "$venv"
    fi
    say "creating .venv with $python"
    "$python" -m venv "$venv" || die "could not create $venv with $python"
fi
vpy="$venv/bin/python"

# --- install, unless the stamp says it is already done --------------------------------------
stamp_key="$(
    {
        cat pyproject.toml
        echo "extras=$extras"
        echo "root=$root"
        "$vpy" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -c1-16
)"
stamp_dir="$venv/.zonesim-bootstrap"
stamp="$stamp_dir/$stamp_key"

installed() { # the stamp exists and zonesim is still installed from this folder
    [[ "${ZONESIM_BOOTSTRAP_FORCE:-0}" != 1 ]] || return 1
    [[ -f "$stamp" ]] || return 1
    "$vpy" - "$root" <<'PY' >/dev/null 2>&1
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("zonesim")
root = pathlib.Path(sys.argv[1]).resolve()
sys.exit(0 if spec and pathlib.Path(spec.origin).resolve().is_relative_to(root) else 1)
PY
}

if installed; then
    say "up to date: .venv (Python $("$vpy" -c 'import platform; print(platform.python_version())'), zonesim$([[ -n "$extras" ]] && echo "[$extras]"))"
    exit 0
fi

say "installing zonesim$([[ -n "$extras" ]] && echo "[$extras]") into .venv (editable)"
log="$(mktemp "${TMPDIR:-/tmp}/zonesim-bootstrap.XXXXXX")"
trap 'rm -f "$log"' EXIT
# Harmless noise on this machine: pip ignoring locations of the local (file://) indexes.
noise="^WARNING: Location 'file://[^']*' is ignored"
set +e
PIP_DISABLE_PIP_VERSION_CHECK=1 "$vpy" -m pip install --quiet --no-input -e "$spec" >"$log" 2>&1
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
    grep -Ev "$noise" "$log" >&2 || true
    die "pip install -e '$spec' failed (exit $rc); see the messages above"
fi
# On success show only pip's own warnings and errors, not the build backend's chatter.
grep -E '^(WARNING|ERROR):' "$log" | grep -Ev "$noise" >&2 || true

mkdir -p "$stamp_dir"
printf 'extras=%s\n' "$extras" >"$stamp"
say "done"
