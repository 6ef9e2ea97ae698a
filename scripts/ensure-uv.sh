#!/usr/bin/env bash
# Make sure uv is available and print the absolute path of the uv binary to use.
#
# stdout is exactly one line, that path; every message goes to stderr. So a Makefile can say
#
#     UV := $(shell scripts/ensure-uv.sh)
#     $(if $(UV),,$(error uv is not available, see the messages above))
#
# (`scripts/ensure-uv.sh | tail -1` works too). If no working `uv` is on PATH, installs
# uv==$ENSURE_UV_VERSION (default 0.13.9) with `python3 -m pip` (into the interpreter's own
# environment when root, e.g. /root/.pyenv/versions/3.11.7/bin with pyenv; with --user otherwise;
# with --user --break-system-packages where the Python is distro-managed, PEP 668).
# An existing uv of another version is used as it is, with a warning.
set -euo pipefail

WANT=${ENSURE_UV_VERSION:-0.13.9}
PYTHON=${PYTHON:-python3}

note() { printf 'ensure-uv: %s\n' "$*" >&2; }
die() { note "error: $*"; exit 1; }

# real_uv PATH: print the binary behind PATH (a pyenv shim resolves to the real file), if it runs.
real_uv() {
    local uv=$1 real
    if [[ $uv == */shims/uv ]] && command -v pyenv >/dev/null 2>&1 &&
       real=$(pyenv which uv 2>/dev/null) && [[ -x $real ]]; then
        uv=$real
    fi
    "$uv" --version >/dev/null 2>&1 || return 1
    printf '%s\n' "$uv"
}

version_of() { "$1" --version 2>/dev/null | awk '{print $2; exit}'; }

# 1. A working uv on PATH: use it.
if uv_path=$(command -v uv 2>/dev/null) && uv=$(real_uv "$uv_path"); then
    have=$(version_of "$uv")
    [[ $have == "$WANT" ]] || note "warning: using uv $have at $uv; the project pins $WANT"
    printf '%s\n' "$uv"
    exit 0
fi

# 2. Install it with pip.
py=$(command -v "$PYTHON" 2>/dev/null) ||
    die "uv is not on PATH and $PYTHON was not found to install it; install uv $WANT (pip install uv==$WANT)"
if ! "$py" -m pip --version >/dev/null 2>&1; then
    if [[ $EUID -eq 0 && $py == /usr/bin/* ]] && command -v apt-get >/dev/null 2>&1; then
        note "$py has no pip; installing python3-pip (apt-get) ..."
        { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip; } >&2 ||
            die "could not install python3-pip"
    else
        die "uv is not on PATH and $py has no pip; install pip for it, or install uv $WANT yourself"
    fi
fi

pip_install() { "$py" -m pip install -q --disable-pip-version-check "$@" "uv==$WANT"; }
mode=()
[[ $EUID -eq 0 ]] || mode=(--user)
note "uv not found on PATH; installing uv==$WANT with $py -m pip install${mode[*]:+ ${mode[*]}} ..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! pip_install "${mode[@]}" >"$log" 2>&1; then
    if grep -q externally-managed-environment "$log"; then
        # a distro Python (PEP 668): keep out of its packages, install for this user only
        mode=(--user --break-system-packages)
        note "$py is managed by the distribution; retrying with ${mode[*]}"
        pip_install "${mode[@]}" >"$log" 2>&1 || { cat "$log" >&2; die "pip install uv==$WANT failed"; }
    else
        cat "$log" >&2
        die "pip install uv==$WANT failed"
    fi
fi

# Where did it go? The uv package knows (it searches the scheme's scripts dirs, user site too).
# Run from / so that a ./uv directory in the caller's working directory cannot shadow the package.
uv=$(cd / && "$py" -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null) && [[ -x $uv ]] ||
    die "installed uv==$WANT but cannot find its binary (try: $py -m pip show -f uv)"
"$uv" --version >/dev/null || die "$uv does not run"

# pyenv only puts new console scripts on PATH after a rehash.
if command -v pyenv >/dev/null 2>&1 && [[ $uv == "$(pyenv root 2>/dev/null)"/* ]]; then
    pyenv rehash >/dev/null 2>&1 || true
fi
note "installed $("$uv" --version) at $uv"
if [[ ":$PATH:" != *":${uv%/*}:"* ]] && ! command -v uv >/dev/null 2>&1; then
    note "note: ${uv%/*} is not on PATH; add it to use 'uv' directly"
fi
printf '%s\n' "$uv"
