#!/usr/bin/env bash
# Documents per second for indexing the real Slack export
# (../shared/data/slack-export): store (connector + ingest) and index
# update, best of 3 fresh runs. Usage: bench/slack_export.sh [savoir-binary]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/savoir}")
EXPORT=../shared/data/slack-export
[ -f "$EXPORT/channels.json" ] || { echo "skip: $EXPORT is absent"; exit 77; }
best=""
for run in 1 2 3; do
  T=$(mktemp -d /tmp/savoir-bench-slack-XXXXXX)
  "$BIN" --data "$T" source add slack-export --path "$EXPORT" --name bench >/dev/null
  t0=$(date +%s.%N)
  out=$("$BIN" --data "$T" source sync 1)
  t1=$(date +%s.%N)
  docs=$(sed -nE 's/.*added ([0-9]+),.*/\1/p' <<<"$out")
  secs=$(echo "$t1 - $t0" | bc -l)
  rate=$(echo "$docs / $secs" | bc -l)
  printf 'run %d: %d documents in %.3f s (%.0f docs/s, process start and index update included)\n' "$run" "$docs" "$secs" "$rate"
  if [ -z "$best" ] || (( $(echo "$rate > $best" | bc -l) )); then best=$rate; fi
  rm -rf "$T"
done
printf 'best: %.0f documents/second\n' "$best"
