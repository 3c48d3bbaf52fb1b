#!/usr/bin/env bash
# End-to-end: the Node tests of tests/js against the real server — the
# official `openai` client (openai.test.mjs) and the browser UI in headless
# Chromium (ui.test.mjs). Screenshots go to ./test-output/ui (CTest runs this
# in the build folder) or to $SAVOIR_TEST_OUT.
# Usage: js_tests.sh SAVOIR_BINARY SOURCE_DIR
set -u
BIN=$1
SRC=$2
JS="$SRC/tests/js"
command -v node >/dev/null || { echo "node not installed: skipped"; exit 77; }
[ -d "$JS/node_modules/openai" ] && [ -d "$JS/node_modules/playwright-core" ] ||
  { echo "tests/js/node_modules missing (run: cd tests/js && npm ci): skipped"; exit 77; }
CHROMIUM=${SAVOIR_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "$CHROMIUM missing (apt-get install chromium): skipped"; exit 77; }
. "$SRC/tests/e2e/lib/serve.sh"

WORK=$(mktemp -d)
trap 'savoir_stop >/dev/null 2>&1; rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
savoir_index_demo "$BIN" "$SRC" "$WORK/data" || { echo "FAIL: indexing the demo corpus"; exit 1; }
# Paced answers, so that the browser sees the answer grow in several steps
# (the UI test must catch the turn while it streams, even on a loaded machine).
savoir_start "$BIN" "$WORK/data" --answer-pace-ms 150 || exit 1
echo "server at $SAVOIR_URL"

export SAVOIR_URL SAVOIR_CHROMIUM=$CHROMIUM
export SAVOIR_TEST_OUT=${SAVOIR_TEST_OUT:-$PWD/test-output/ui}
mkdir -p "$SAVOIR_TEST_OUT"
(cd "$JS" && node --test --test-reporter=spec parsers.test.mjs openai.test.mjs ui.test.mjs)
rc=$?
savoir_stop || { echo "FAIL: savoir did not exit 0 on SIGTERM"; exit 1; }
[ $rc = 0 ] || { echo "FAIL: node tests (server log below)"; tail -20 "$SAVOIR_LOG"; exit 1; }
echo "screenshots in $SAVOIR_TEST_OUT"
