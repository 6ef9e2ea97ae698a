#!/usr/bin/env bash
# Validate a Compose file with `config -q` (default: infra/docker-compose.yml next to this script).
#
#   bash infra/lint-compose.sh [path/to/compose.yml]
#
# Uses `docker compose` (v2 plugin) when it works, else `docker-compose`; when neither is present
# and we run as root on Debian/Ubuntu, installs Debian's docker-compose package first.
# No Docker engine is needed: `config` only parses, interpolates and validates.
# Exit codes: 0 valid, 1 invalid, 2 no usable linter / bad usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
file="${1:-$here/docker-compose.yml}"

if [[ ! -f "$file" ]]; then
    echo "lint-compose: no such file: $file" >&2
    exit 2
fi

compose=()
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
elif [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "lint-compose: neither 'docker compose' nor 'docker-compose' found; installing docker-compose via apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null \
        && command -v docker-compose >/dev/null 2>&1; then
        compose=(docker-compose)
    else
        echo "lint-compose: FAILED to install docker-compose with apt-get" >&2
        exit 2
    fi
else
    echo "lint-compose: no Compose linter: install the docker compose plugin or docker-compose" \
         "(as root: apt-get install docker-compose)" >&2
    exit 2
fi

echo "lint-compose: ${compose[*]} -f $file config -q"
if "${compose[@]}" -f "$file" config -q; then
    echo "lint-compose: OK: $file"
else
    rc=$?
    echo "lint-compose: INVALID compose file: $file (${compose[*]} config exited $rc)" >&2
    exit 1
fi
