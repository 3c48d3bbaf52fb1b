// Reference outputs from AWS-independent and AWS's own npm code, for the C++
// tests (tests/unit/aws_test.cc):
//   node aws-tools.mjs sign    < requests.json   -> the aws4 signer's result per request
//   node aws-tools.mjs frames                    -> event-stream frames made by @smithy/eventstream-codec
import aws4 from 'aws4';
import { EventStreamCodec, Int64 } from '@smithy/eventstream-codec';
import { readFileSync } from 'node:fs';

const utf8 = {
  to: (bytes) => new TextDecoder().decode(bytes),
  from: (text) => new TextEncoder().encode(text),
};
export const codec = new EventStreamCodec(utf8.to, utf8.from);

function sign() {
  const requests = JSON.parse(readFileSync(0, 'utf8'));
  const out = requests.map((r) => {
    const opts = {
      host: r.host, method: r.method, path: r.path + (r.query ? '?' + r.query : ''),
      headers: { ...r.headers }, body: r.body, service: r.service, region: r.region,
      // e.g. {"content-length": true}: sign exactly the headers the request under test signed
      ...(r.ignoreHeaders ? { extraHeadersToIgnore: r.ignoreHeaders } : {}),
    };
    const signer = new aws4.RequestSigner(opts, r.credentials);
    const canonical = signer.canonicalString();
    const stringToSign = signer.stringToSign();
    const signed = signer.sign();
    return { canonical, stringToSign, authorization: signed.headers.Authorization };
  });
  process.stdout.write(JSON.stringify(out));
}

function frames() {
  const hex = (b) => Buffer.from(b).toString('hex');
  const cases = [
    { headers: {}, body: '' },
    { headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: 'contentBlockDelta' },
                 ':content-type': { type: 'string', value: 'application/json' } },
      body: JSON.stringify({ contentBlockIndex: 0, delta: { text: 'Bonjour, ça va ? 👋' } }) },
    { headers: {
        't': { type: 'boolean', value: true }, 'f': { type: 'boolean', value: false },
        'b': { type: 'byte', value: -7 }, 's': { type: 'short', value: -12345 }, 'i': { type: 'integer', value: 2000000000 },
        'l': { type: 'long', value: Int64.fromNumber(-1234567890123) },
        'bin': { type: 'binary', value: Uint8Array.from([0, 1, 2, 254, 255]) },
        'str': { type: 'string', value: 'héllo' },
        'ts': { type: 'timestamp', value: new Date(1764158400123) },
        'id': { type: 'uuid', value: '0123abcd-4567-89ef-0123-456789abcdef' } },
      body: '\u0000binary\u0001payload' },
    { headers: { ':message-type': { type: 'string', value: 'exception' }, ':exception-type': { type: 'string', value: 'throttlingException' } },
      body: JSON.stringify({ message: 'Too many requests, please wait before trying again.' }) },
    { headers: { big: { type: 'string', value: 'x'.repeat(3000) } }, body: 'y'.repeat(70000) },
  ];
  const out = cases.map((c) => {
    const frame = codec.encode({ headers: c.headers, body: utf8.from(c.body) });
    const headers = Object.entries(c.headers).map(([name, h]) => {
      let value;
      switch (h.type) {
        case 'boolean': value = h.value ? '1' : '0'; break;
        case 'long': value = h.value.toString(); break;
        case 'binary': value = hex(h.value); break;
        case 'timestamp': value = String(h.value.valueOf()); break;
        case 'uuid': value = h.value.replace(/-/g, ''); break;
        default: value = String(h.value);
      }
      return { name, type: h.type, value };
    });
    return { frame: hex(frame), headers, payload: hex(utf8.from(c.body)) };
  });
  process.stdout.write(JSON.stringify(out));
}

if (process.argv[2] === 'sign') sign();
else if (process.argv[2] === 'frames') frames();
else if (process.argv[2] !== 'bench' && process.argv[1] && process.argv[1].endsWith('aws-tools.mjs')) {
  console.error('usage: node aws-tools.mjs sign|frames');
  process.exit(2);
}

// node aws-tools.mjs bench N -> the reference rates for bench/aws_bench.cc:
// aws4 signing the same kind of Bedrock request, and @smithy/eventstream-codec
// decoding the same stream of contentBlockDelta frames (split into frames by
// their prelude, as the SDK's chunked stream does).
export function bench(n) {
  const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x'.repeat(2000) }] }] });
  const creds = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench/secret', sessionToken: 'token' };
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    aws4.sign({ host: 'bedrock-runtime.eu-west-3.amazonaws.com', method: 'POST', service: 'bedrock', region: 'eu-west-3',
      path: `/model/anthropic.claude-3-haiku-20240307-v1%3A${i % 10}/converse-stream`,
      headers: { 'Content-Type': 'application/json', 'X-Amz-Date': '20261126T120000Z' }, body }, creds);
  }
  const signSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const frames = [];
  for (let i = 0; i < n; i++) {
    frames.push(codec.encode({ headers: { ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: 'contentBlockDelta' }, ':content-type': { type: 'string', value: 'application/json' } },
    body: utf8.from(JSON.stringify({ contentBlockIndex: 0, delta: { text: `token ${i} ` }, p: 'abcdefghij' })) }));
  }
  const stream = Buffer.concat(frames.map((f) => Buffer.from(f)));
  t = process.hrtime.bigint();
  let decoded = 0;
  for (let pos = 0; pos < stream.length;) {
    const len = stream.readUInt32BE(pos);
    const m = codec.decode(new Uint8Array(stream.buffer, stream.byteOffset + pos, len));
    decoded += m.body.length > 0 ? 1 : 0;
    pos += len;
  }
  const decodeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { signs_per_s: n / signSeconds, frames_per_s: decoded / decodeSeconds, stream_bytes: stream.length };
}
if (process.argv[2] === 'bench') process.stdout.write(JSON.stringify(bench(Number(process.argv[3] || 20000))));
