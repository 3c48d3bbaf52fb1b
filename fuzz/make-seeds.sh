#!/usr/bin/env bash
# Builds the seed corpora of every harness in BUILD/seeds/<harness>/ at run
# time (nothing is copied into the repository): sample files of
# ../shared/data/docs picked by extension (at most MAX_SEED_BYTES each), the
# small hand-written seeds of fuzz/seeds/<harness>/, and valid segments
# written by the segment_seeds tool.
#   usage: fuzz/make-seeds.sh BUILD_DIR [DOCS_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
docs=${2:-$here/../../shared/data/docs}
max_bytes=${MAX_SEED_BYTES:-262144}
out=$build/seeds
rm -rf "$out"
mkdir -p "$out"

# harness -> extensions taken from the shared sample documents
declare -A exts=(
  [parse_html]="html htm xhtml"
  [parse_markdown]="md markdown"
  [parse_text]="txt csv tsv rst org log"
  [parse_docx]="docx"
  [parse_eml]="eml"
  [parse_pdf]="pdf"
  [query]=""
  [answer]="txt md"
  [acl]=""
  [segment]=""
  [eventstream]=""
  [api_request]=""
  [slack]=""
  [confluence]=""
  [web]="html htm xml"
)
for h in "${!exts[@]}"; do
  mkdir -p "$out/$h"
  if [[ -d $docs ]]; then
    for e in ${exts[$h]}; do
      find "$docs" -maxdepth 3 -type f -iname "*.$e" -size -"$((max_bytes / 1024 + 1))"k -print0 |
        while IFS= read -r -d '' f; do
          # flatten the path into a unique file name
          cp "$f" "$out/$h/$(echo "${f#$docs/}" | tr '/ ' '__')"
        done
    done
  fi
  if [[ -d $here/seeds/$h ]]; then
    cp "$here/seeds/$h"/* "$out/$h/" 2>/dev/null || true
  fi
done
# Slack: the real export's day files, channel and user lists (a few per channel).
slack=$docs/../slack-export
if [[ -d $slack ]]; then
  for f in "$slack"/*.json; do cp "$f" "$out/slack/"; done
  for ch in "$slack"/*/; do
    # (no `| head` here: under pipefail, head closing the pipe early fails the script with SIGPIPE)
    mapfile -t days < <(find "$ch" -maxdepth 1 -name '*.json' -size -"$((max_bytes / 1024 + 1))"k | sort)
    for f in "${days[@]:0:5}"; do cp "$f" "$out/slack/$(basename "$ch")_$(basename "$f")"; done
  done
fi
# Answer inputs are NUL-separated: question, then passages.
printf 'Combien de jours de congés ?\0\x02Les congés payés sont de 25 jours par an. Voir M. Dupont.\0\x01Vacation is 25 days.' \
  >"$out/answer/nul-separated"
if [[ -x $build/segment_seeds ]]; then
  "$build/segment_seeds" "$out/segment"
fi
for h in $(printf '%s\n' "${!exts[@]}" | sort); do
  printf '%-16s %4d seeds\n' "$h" "$(find "$out/$h" -type f | wc -l)"
done
