#!/usr/bin/env bash
# Build the web pages the package serves (/ and /docs) from frontend/ into
# codeexec/http/static/ (package data, not committed), only when they are missing or
# older than their inputs: a second run costs a `find`. `npm ci` installs exactly the
# lock's versions. Without npm it says so and goes on: / and /docs then answer how to build.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=codeexec/http/static/docs/VERSION
if [ -f "$stamp" ] && [ -f codeexec/http/static/web/index.html ] &&
    [ -z "$(find frontend/package.json frontend/package-lock.json frontend/vite.config.mjs \
        frontend/src frontend/web frontend/scripts -newer "$stamp" -print -quit)" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "[frontend] npm not found: / and /docs will not be served (install Node.js and npm)" >&2
    exit 0
fi
echo "[frontend] building the / and /docs pages (npm ci && npm run build in frontend/)"
(cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
