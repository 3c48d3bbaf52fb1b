#!/usr/bin/env bash
# make-tiny-models.sh OUTDIR — tiny random-weight GGUF models for tests and
# benches (see make_tiny_models.py), generated with the gguf-py and the
# tokenizer vocabularies that scripts/build-llama installs in its prefix.
# A no-op when OUTDIR already holds the models of this generator version;
# concurrent callers wait for one another.
set -euo pipefail
out=${1:?usage: make-tiny-models.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
prefix=${SAVOIR_LLAMA_PREFIX:-${SAVOIR_CACHE:-$HOME/.cache/savoir}/llama-de3ff815}
if [ ! -f "$prefix/share/gguf-py/gguf/__init__.py" ]; then
  echo "make-tiny-models: $prefix has no gguf-py: run scripts/build-llama" >&2
  exit 1
fi
/usr/bin/python3 -c 'import numpy' 2>/dev/null ||
  { echo "make-tiny-models: numpy missing for /usr/bin/python3 (Debian python3-numpy)" >&2; exit 1; }

want=$(cat "$here/make_tiny_models.py" "$prefix/STAMP" | sha256sum | cut -c1-16)
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
[ "$(cat "$out/STAMP" 2>/dev/null)" = "$want" ] && exit 0
tmp=$(mktemp -d "$out/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PYTHONPATH="$prefix/share/gguf-py" /usr/bin/python3 "$here/make_tiny_models.py" "$prefix/share/vocab" "$tmp"
mv -f "$tmp"/*.gguf "$out/"
echo "$want" >"$out/STAMP"
