// Unit tests of the DOM-free modules of web/ (SSE parser, text helpers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSEParser, readSSE } from '../../web/sse.js';
import { byteRangeToIndices, parseSnippet, splitCitations } from '../../web/text.js';

function parseAll(chunks) {
  const events = [];
  const p = new SSEParser((e) => events.push(e));
  for (const c of chunks) p.push(c);
  p.end();
  return events;
}

test('SSE: events split anywhere across chunks', () => {
  const stream = ': hello\n\nevent: sources\ndata: {"results":[]}\n\nevent: delta\ndata: {"text":"Bon"}\n\nevent: delta\r\ndata: {"text":"jour [1]"}\r\n\r\nevent: done\ndata: {"mode":"extractive"}\n\n';
  const whole = parseAll([stream]);
  assert.deepEqual(whole.map((e) => e.event), ['sources', 'delta', 'delta', 'done']);
  assert.equal(JSON.parse(whole[2].data).text, 'jour [1]');
  for (let size = 1; size <= 7; size++) {
    const chunks = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
    assert.deepEqual(parseAll(chunks), whole, `chunk size ${size}`);
  }
});

test('SSE: multi-line data, default event type, missing space, trailing event dropped', () => {
  const ev = parseAll(['data: a\ndata:b\n\nevent:x\ndata: c\n\nevent: y\ndata: never finished']);
  assert.deepEqual(ev.map((e) => [e.event, e.data]), [['message', 'a\nb'], ['x', 'c']]);
  const cr = parseAll(['event: a\rdata: 1\r', '\rdata: 2\r\r']);
  assert.deepEqual(cr.map((e) => [e.event, e.data]), [['a', '1'], ['message', '2']]);
});

test('SSE: readSSE decodes UTF-8 split inside a character', async () => {
  const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"congés payés"}\n\n');
  const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
  const body = new ReadableStream({
    start(c) { c.enqueue(bytes.slice(0, cut)); c.enqueue(bytes.slice(cut)); c.close(); },
  });
  const events = [];
  await readSSE(body, (e) => events.push(e));
  assert.equal(JSON.parse(events[0].data).text, 'congés payés');
});

test('byteRangeToIndices converts UTF-8 byte offsets', () => {
  const text = 'Él a dit « congés » 😀 puis: fin';
  const enc = new TextEncoder();
  const word = 'congés';
  const start = enc.encode(text.slice(0, text.indexOf(word))).length;
  const end = start + enc.encode(word).length;
  const [i, j] = byteRangeToIndices(text, start, end);
  assert.equal(text.slice(i, j), word);
  const emoji = enc.encode(text.slice(0, text.indexOf('😀'))).length;
  const [a, b] = byteRangeToIndices(text, emoji + 1, emoji + 2); // inside the emoji
  assert.equal(text.slice(a, b), '😀');
  assert.deepEqual(byteRangeToIndices(text, -5, 1e9), [0, text.length]);
  assert.deepEqual(byteRangeToIndices('abc', 2, 1), [2, 2]);
});

test('parseSnippet keeps only <mark> as markup', () => {
  assert.deepEqual(parseSnippet('a <mark>b</mark> <b>c</b> & <MARK>d'), [
    { text: 'a ', mark: false }, { text: 'b', mark: true }, { text: ' <b>c</b> & ', mark: false }, { text: 'd', mark: true },
  ]);
  assert.deepEqual(parseSnippet(null), []);
});

test('splitCitations finds [n], [n, m], [n-m] within range only', () => {
  assert.deepEqual(splitCitations('A [1]. B [2, 3] C [4] [x] [2-3]', 3), [
    { text: 'A ' }, { cite: 1 }, { text: '. B ' }, { cite: 2 }, { cite: 3 }, { text: ' C [4] [x] ' }, { cite: 2 }, { cite: 3 },
  ]);
  assert.deepEqual(splitCitations('partial [1', 3), [{ text: 'partial [1' }]);
});
