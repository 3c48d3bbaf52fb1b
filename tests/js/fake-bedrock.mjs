// A local stand-in for the Bedrock runtime API, for tests only. Every request
// must carry a valid SigV4 signature, recomputed here with the independent
// `aws4` signer from the test credentials (FAKE_AWS_ACCESS_KEY_ID,
// FAKE_AWS_SECRET_ACCESS_KEY, FAKE_AWS_SESSION_TOKEN, FAKE_AWS_REGION);
// otherwise 403 as Bedrock answers. Routes:
//   POST /model/{id}/converse         JSON answer
//   POST /model/{id}/converse-stream  application/vnd.amazon.eventstream frames made by @smithy/eventstream-codec
//   POST /model/{id}/invoke           Titan (amazon.titan-embed-text-*) or Cohere (cohere.embed-*) embeddings
//   GET  /__requests                  what was received (model ids, bodies), unsigned
// The chat answer is "echo" of what the server understood, so the tests can
// check the request: "model=<id>|system=<...>|user=<last user text>|turns=<n>|maxTokens=<n>|temperature=<t>|stop=<a,b>".
// Model ids starting with "fail.throttle" send one delta then a
// throttlingException frame; "fail.validation" answers 400.
// Prints "listening <port>" once ready.
import http from 'node:http';
import crypto from 'node:crypto';
import aws4 from 'aws4';
import { codec } from './aws-tools.mjs';

const creds = {
  accessKeyId: process.env.FAKE_AWS_ACCESS_KEY_ID || 'AKIDFAKEBEDROCK',
  secretAccessKey: process.env.FAKE_AWS_SECRET_ACCESS_KEY || 'fake/secret/key',
  sessionToken: process.env.FAKE_AWS_SESSION_TOKEN || undefined,
};
const region = process.env.FAKE_AWS_REGION || 'eu-west-3';
const received = [];

function deny(res, type, message) {
  res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/` });
  res.end(JSON.stringify({ message }));
}

// Returns an error message, or null when the signature is valid.
function verify(req, body) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return ['IncompleteSignatureException', 'Authorization header missing or malformed'];
  const [, key, date, reg, service, signedHeaders, signature] = m;
  if (key !== creds.accessKeyId) return ['UnrecognizedClientException', 'The security token included in the request is invalid.'];
  if (reg !== region || service !== 'bedrock') return ['InvalidSignatureException', `Credential should be scoped to a valid region/service (got ${reg}/${service})`];
  const signed = signedHeaders.split(';');
  for (const h of ['host', 'x-amz-date', 'content-type']) {
    if (!signed.includes(h)) return ['InvalidSignatureException', `'${h}' must be a signed header`];
  }
  if (creds.sessionToken && (req.headers['x-amz-security-token'] !== creds.sessionToken || !signed.includes('x-amz-security-token'))) {
    return ['UnrecognizedClientException', 'The security token included in the request is invalid.'];
  }
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return ['InvalidSignatureException', 'Date in Credential scope does not match x-amz-date'];
  const when = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - when) <= 5 * 60 * 1000)) {
    return ['InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than the allowed window`];
  }
  const headers = {};
  for (const h of signed) headers[h] = req.headers[h];
  const ignore = Object.create(null);
  if (!signed.includes('content-length')) ignore['content-length'] = true;
  const expected = aws4.sign({ host: req.headers.host, method: req.method, path: req.url, headers, body,
    service: 'bedrock', region, extraHeadersToIgnore: ignore }, creds).headers.Authorization;
  const got = /Signature=([0-9a-f]+)/.exec(expected)[1];
  if (got !== signature) {
    return ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.'];
  }
  return null;
}

// A deterministic pseudo-embedding of `text` (not normalized).
function vectorOf(text, dims) {
  const out = [];
  for (let i = 0; out.length < dims; i++) {
    const h = crypto.createHash('sha256').update(`${i}:${text}`).digest();
    for (let j = 0; j + 2 <= h.length && out.length < dims; j += 2) out.push((h.readUInt16BE(j) - 32768) / 4096);
  }
  return out;
}
const unit = (v) => { const n = Math.hypot(...v); return v.map((x) => x / n); };

function echo(model, request) {
  const system = (request.system || []).map((b) => b.text).join('\n');
  const msgs = request.messages || [];
  const last = [...msgs].reverse().find((m) => m.role === 'user');
  const user = last ? last.content.map((b) => b.text).join('\n') : '';
  const ic = request.inferenceConfig || {};
  return `model=${model}|system=${system}|user=${user}|turns=${msgs.length}|maxTokens=${ic.maxTokens}|temperature=${ic.temperature}|stop=${(ic.stopSequences || []).join(',')}`;
}

const frame = (eventType, payload, messageType = 'event', extra = {}) => codec.encode({
  headers: {
    ':message-type': { type: 'string', value: messageType },
    [messageType === 'exception' ? ':exception-type' : ':event-type']: { type: 'string', value: eventType },
    ':content-type': { type: 'string', value: 'application/json' }, ...extra,
  },
  body: new TextEncoder().encode(JSON.stringify(payload)),
});

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method === 'GET' && req.url === '/__requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(received));
    }
    const bad = verify(req, body);
    if (bad) return deny(res, bad[0], bad[1]);
    const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(req.url);
    if (req.method !== 'POST' || !route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: `no route ${req.method} ${req.url}` }));
    }
    const model = decodeURIComponent(route[1]);
    const action = route[2];
    let request;
    try { request = JSON.parse(body); } catch { request = null; }
    received.push({ model, action, rawPath: req.url, body: request });
    if (!request || model.startsWith('fail.validation')) {
      res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' });
      return res.end(JSON.stringify({ message: request ? `The provided model identifier is invalid: ${model}` : 'Malformed input request' }));
    }
    if (action === 'converse') {
      const text = echo(model, request);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({
        output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: 'end_turn',
        usage: { inputTokens: body.length, outputTokens: text.split('|').length, totalTokens: body.length + 1 },
        metrics: { latencyMs: 5 },
      }));
    }
    if (action === 'converse-stream') {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': crypto.randomUUID() });
      const text = echo(model, request);
      const pieces = text.split(/(?<=\|)/);
      const frames = [frame('messageStart', { role: 'assistant' })];
      if (model.startsWith('fail.throttle')) {
        frames.push(frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: pieces[0] } }));
        frames.push(frame('throttlingException', { message: 'Too many requests, please wait before trying again.' }, 'exception'));
      } else {
        for (const p of pieces) frames.push(frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: p }, p: 'abcdefgh' }));
        frames.push(frame('contentBlockStop', { contentBlockIndex: 0 }));
        frames.push(frame('messageStop', { stopReason: 'end_turn' }));
        frames.push(frame('metadata', { usage: { inputTokens: body.length, outputTokens: pieces.length, totalTokens: body.length + pieces.length }, metrics: { latencyMs: 7 } }));
      }
      // Written in uneven slices so frames straddle network reads.
      const all = Buffer.concat(frames.map((f) => Buffer.from(f)));
      for (let i = 0; i < all.length; i += 37) {
        res.write(all.subarray(i, Math.min(all.length, i + 37)));
        await new Promise((r) => setImmediate(r));
      }
      return res.end();
    }
    // InvokeModel.
    res.writeHead(200, { 'content-type': 'application/json' });
    if (model.startsWith('amazon.titan-embed-text')) {
      if (typeof request.inputText !== 'string' || !request.inputText) {
        res.writeHead(400); return res.end(JSON.stringify({ message: 'inputText is required' }));
      }
      const v2 = model.includes('-v2');
      const dims = v2 ? (request.dimensions || 1024) : 1536;
      let v = vectorOf(request.inputText, dims);
      if (v2 && request.normalize === true) v = unit(v);
      return res.end(JSON.stringify({ embedding: v, inputTextTokenCount: request.inputText.split(/\s+/).length }));
    }
    if (model.startsWith('cohere.embed')) {
      if (!Array.isArray(request.texts) || !['search_query', 'search_document'].includes(request.input_type)) {
        res.writeHead(400); return res.end(JSON.stringify({ message: 'texts and input_type (search_query|search_document) are required' }));
      }
      return res.end(JSON.stringify({ id: crypto.randomUUID(), response_type: 'embeddings_floats', texts: request.texts,
        embeddings: request.texts.map((t) => vectorOf(`${request.input_type}:${t}`, 1024)) }));
    }
    res.writeHead(400); return res.end(JSON.stringify({ message: `unknown model ${model}` }));
  });
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
