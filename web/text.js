// Text helpers without DOM dependencies (also used by the Node tests).

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Converts [start, end) UTF-8 byte offsets into `text` into JS string
 * (UTF-16) indices. Offsets are clamped to the text, and an offset that
 * falls inside a multi-byte character is moved to that character's start
 * (for start) or end (for end).
 */
export function byteRangeToIndices(text, start, end) {
  const bytes = encoder.encode(text);
  const n = bytes.length;
  let s = Math.max(0, Math.min(n, Math.floor(Number(start) || 0)));
  let e = Math.max(s, Math.min(n, Math.floor(Number(end) || 0)));
  while (s > 0 && s < n && (bytes[s] & 0xc0) === 0x80) s--;
  while (e < n && (bytes[e] & 0xc0) === 0x80) e++;
  const i = decoder.decode(bytes.subarray(0, s)).length;
  const j = i + decoder.decode(bytes.subarray(s, e)).length;
  return [i, j];
}

/**
 * Splits a snippet where only <mark> and </mark> are markup into
 * [{text, mark}] parts. Everything else is plain text, to be inserted with
 * textContent (never innerHTML).
 */
export function parseSnippet(snippet) {
  const parts = [];
  let mark = false;
  for (const piece of String(snippet ?? '').split(/(<\/?mark>)/i)) {
    const tag = piece.toLowerCase();
    if (tag === '<mark>') { mark = true; continue; }
    if (tag === '</mark>') { mark = false; continue; }
    if (piece) parts.push({ text: piece, mark });
  }
  return parts;
}

/**
 * Tokenises answer text for rendering: plain text runs and citation
 * markers. "[1]", "[1, 2]", "[1][3]" and "[1-2]" are recognised; numbers
 * outside 1..maxN stay plain text.
 */
export function splitCitations(text, maxN) {
  const out = [];
  const re = /\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]/g;
  let last = 0, m;
  while ((m = re.exec(text))) {
    const nums = [];
    for (const part of m[1].split(/\s*[,;]\s*/)) {
      const range = part.split(/\s*[–-]\s*/).map(Number);
      if (range.length === 2 && range[1] >= range[0] && range[1] - range[0] < 20) {
        for (let k = range[0]; k <= range[1]; k++) nums.push(k);
      } else nums.push(...range);
    }
    if (!nums.length || nums.some((k) => !(k >= 1 && k <= maxN))) continue;
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    for (const n of nums) out.push({ cite: n });
    last = re.lastIndex;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
