#!/usr/bin/env bash
# First paint of the web UI from a local server (demo corpus), in Debian's
# headless Chromium. Usage: bench/first_paint.sh [SAVOIR_BINARY]
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/savoir}
[ -d "$SRC/tests/js/node_modules/playwright-core" ] || { echo "run scripts/install-deps first" >&2; exit 1; }
. "$SRC/tests/e2e/lib/serve.sh"
WORK=$(mktemp -d)
trap 'savoir_stop >/dev/null 2>&1; rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
savoir_index_demo "$BIN" "$SRC" "$WORK/data"
savoir_start "$BIN" "$WORK/data"
(cd "$SRC/tests/js" && node first-paint.mjs "$SAVOIR_URL/")
