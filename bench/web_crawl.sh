#!/usr/bin/env bash
# Documents per second for crawling a generated local site (tests/js/fake-site.mjs,
# N pages of ~250 words in a binary tree of links, site chrome on every page):
# breadth-first crawl, robots.txt, fetch, main-content extraction, store and
# index update, all in one `savoir source sync`. Then the 304 re-sync.
# During the crawl the sync process's RSS (VmRSS) is sampled every 0.5 s:
# means of the first, middle and last third of the samples, and the peak.
# Usage: bench/web_crawl.sh [savoir-binary] [pages (default 10000)]
# RSS_LOG=FILE keeps the crawl's samples (KiB, one a line); DELAY_MS=N makes
# the site answer every request N ms late (a remote site's latency).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/savoir}")
N=${2:-10000}
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
T=$(mktemp -d /tmp/savoir-bench-web-XXXXXX)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
printf '{"delay_ms": %d, "robots": "User-agent: *\\nDisallow: /private/\\n", "generate": %d, "pages": {"/": {"title": "Home", "body": "<p>Generated site</p><a href=\\"/gen/0\\">start</a>"}}}\n' "${DELAY_MS:-0}" "$N" > "$T/state.json"
node tests/js/fake-site.mjs "$T/state.json" "$T/port" /dev/null & SERVER=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
SITE="http://127.0.0.1:$(cat "$T/port")/"
"$BIN" --data "$T/data" source add web --url "$SITE" --max-pages $((N + 10)) --rate-per-min 10000000 --name bench >/dev/null
for pass in crawl re-sync; do
  t0=$(date +%s.%N)
  "$BIN" --data "$T/data" source sync 1 > "$T/out" & SYNC=$!
  : > "$T/rss.$pass"
  while kill -0 $SYNC 2>/dev/null; do
    awk '/^VmRSS:/ {print $2}' /proc/$SYNC/status >> "$T/rss.$pass" 2>/dev/null || true
    sleep 0.5
  done
  wait $SYNC
  t1=$(date +%s.%N)
  out=$(cat "$T/out")
  echo "  $out"
  docs=$(sed -nE 's/.*seen ([0-9]+),.*/\1/p' <<<"$out")
  secs=$(echo "$t1 - $t0" | bc -l)
  if [ "$pass" = crawl ]; then
    printf 'crawl: %d pages in %.2f s = %.0f documents/second (fetch, parse, store, index)\n' "$docs" "$secs" \
      "$(echo "$docs / $secs" | bc -l)"
    awk '$1 > 0 { v[n++] = $1 } END {
      if (n < 3) { print "RSS: too few samples (" n ")"; exit }
      t = int(n / 3); peak = 0
      for (i = 0; i < n; i++) { if (v[i] > peak) peak = v[i]; part = (i < t) ? 0 : (i < n - t) ? 1 : 2; s[part] += v[i]; c[part]++ }
      printf "crawl RSS (%d samples, 0.5 s): first third %.1f MiB, middle %.1f MiB, last third %.1f MiB, peak %.1f MiB\n",
             n, s[0] / c[0] / 1024, s[1] / c[1] / 1024, s[2] / c[2] / 1024, peak / 1024
    }' "$T/rss.$pass"
    if [ -n "${RSS_LOG:-}" ]; then cp "$T/rss.$pass" "$RSS_LOG"; fi
  else
    printf 're-sync (all 304): %.2f s = %.0f pages/second\n' "$secs" "$(echo "($N + 1) / $secs" | bc -l)"
  fi
done
