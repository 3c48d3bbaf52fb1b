// Mock Savoir server for UI development and tests: serves ../../web and a
// fake JSON API with the shapes of the real one. No dependencies.
//
//   node mock-server.mjs [port]        (default 8090; 0 = any free port)
//   MOCK_MODE=multi-user node mock-server.mjs
//
// Query words that trigger special behaviour in /api/chat and /api/search:
//   "fail"       -> the answer stream sends `event: error` after the sources
//   "http500"    -> /api/chat answers HTTP 500 with a JSON error
//   "searchfail" -> /api/search answers HTTP 500 (the answer still streams)
//   "generative" -> done.mode = "generative" (default "extractive")
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(here, '../../web');
const DELTA_MS = Number(process.env.MOCK_DELTA_MS ?? 50);

const SOURCES = [
  { id: 1, kind: 'files', name: 'demo' },
  { id: 2, kind: 'slack', name: 'Slack #rh-questions' },
  { id: 3, kind: 'confluence', name: 'Engineering wiki' },
  { id: 4, kind: 'web', name: 'Intranet' },
];

const DOCS = [
  {
    id: 12, source: 1, language: 'fr', updated_at: '2026-11-20T10:00:00Z', url: 'file:///srv/docs/rh/politique-conges-2026.md',
    title: 'Politique de congés 2026',
    sections: [
      ['Congés > Principes', 'Cette politique s’applique à l’ensemble des salariés de la société, quel que soit leur établissement. Elle complète la convention collective et le Code du travail ; en cas d’écart, la disposition la plus favorable au salarié s’applique.'],
      ['Congés > Acquisition', 'Chaque salarié à temps plein acquiert 2,5 jours ouvrables de congés payés par mois de travail effectif, soit 30 jours ouvrables (25 jours ouvrés) par année complète de référence, du 1er juin au 31 mai.'],
      ['Congés > Prise des congés', 'Les demandes de congés se font dans l’outil RH au moins deux semaines à l’avance. Le responsable valide sous cinq jours ouvrés. Le congé principal d’au moins douze jours consécutifs est pris entre le 1er mai et le 31 octobre.'],
      ['Congés > Report', 'Les congés non pris au 31 mai peuvent être reportés de cinq jours au maximum, avec l’accord du responsable, jusqu’au 31 décembre suivant. Au-delà, ils sont perdus sauf absence pour maladie.'],
      ['Congés > Temps partiel', 'Les salariés à temps partiel acquièrent des congés dans les mêmes conditions que les salariés à temps plein : 2,5 jours ouvrables par mois. Le décompte se fait en jours ouvrables, y compris les jours non travaillés.'],
    ],
  },
  {
    id: 7, source: 3, language: 'en', updated_at: '2026-09-02T08:30:00Z', url: 'https://wiki.example.com/display/ENG/On-call+escalation',
    title: 'On-call escalation runbook',
    sections: [
      ['On-call > Overview', 'The on-call engineer is the first responder for production incidents. Rotations last one week and hand over every Monday at 10:00 Paris time.'],
      ['On-call > Escalation', 'If an incident is not acknowledged within 15 minutes, PagerDuty escalates to the secondary on-call. After 30 minutes without mitigation, escalate to the engineering manager and open an incident channel named #inc-<date>-<topic>.'],
      ['On-call > Severity levels', 'SEV1: customer-facing outage, all hands, status page update every 30 minutes. SEV2: degraded service, fix within one business day. SEV3: minor issue, tracked in the backlog.'],
      ['On-call > Compensation', 'On-call weeks are compensated with a fixed allowance and one recovery day per week on call, to be taken within the following month.'],
    ],
  },
  {
    id: 31, source: 2, language: 'fr', updated_at: '2026-10-14T15:12:00Z', url: 'https://example.slack.com/archives/C123/p1697296320',
    title: '#rh-questions — report de congés',
    sections: [
      ['', 'Camille : Bonjour, est-ce que je peux reporter mes congés non pris à l’année prochaine ?'],
      ['', 'Équipe RH : Oui, jusqu’à cinq jours de congés, avec l’accord de ton responsable. Il faut faire la demande dans l’outil RH avant le 31 mai.'],
      ['', 'Camille : Merci ! Et pour les RTT ?'],
      ['', 'Équipe RH : Les RTT ne sont pas reportables, ils doivent être pris avant la fin de l’année civile.'],
    ],
  },
  {
    id: 44, source: 4, language: 'en', updated_at: '2025-12-01T09:00:00Z', url: 'https://intranet.example.com/policies/remote-work',
    title: 'Remote work policy',
    sections: [
      ['Remote work > Eligibility', 'Employees may work remotely up to three days per week after their trial period, subject to their manager’s agreement.'],
      ['Remote work > Equipment', 'The company provides a laptop, a screen and a monthly allowance of 30 EUR for internet costs. Paid leave and remote days are requested in the same HR tool.'],
    ],
  },
  {
    id: 50, source: 1, language: 'en', updated_at: '2026-03-05T12:00:00Z', url: 'file:///srv/docs/notes/<b>escaping</b>.txt',
    title: '<img src=x onerror="window.__xss=1"> Notes & "quotes" <b>bold?</b>',
    sections: [
      ['Notes', 'This note mentions <script>window.__xss=2</script> tags & ampersands in plain text; paid leave questions go to HR. Nothing here should be interpreted as HTML.'],
    ],
  },
];

// Build full texts and chunks with UTF-8 byte offsets.
const CHUNKS = [];
for (const doc of DOCS) {
  let text = `${doc.title.replace(/<[^>]*>/g, '').trim()}\n\n`;
  doc.chunks = [];
  doc.sections.forEach(([heading, body], i) => {
    if (heading) text += `${heading.split(' > ').pop()}\n\n`;
    const start = Buffer.byteLength(text);
    text += body;
    const end = Buffer.byteLength(text);
    text += '\n\n';
    const chunk = { chunk_id: doc.id * 10 + i, doc, heading, body, start, end };
    doc.chunks.push(chunk);
    CHUNKS.push(chunk);
  });
  doc.text = text.trimEnd();
}

const sourceOf = (id) => SOURCES.find((s) => s.id === id);
const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const STOP = new Set(fold('the a an of to in is are do does i my me how many much what which and for or get per can with about when who de la le les des du un une et est je mes ai quel quelle combien pour que qui sur avec par au aux ce cette il on en à ou quand').split(' '));

function terms(query) {
  return [...new Set(fold(query).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1 && !STOP.has(w)))];
}

function searchChunks(query, filters = {}, k = 10) {
  const qs = terms(query);
  const after = filters.updated_after ? Date.parse(filters.updated_after) : null;
  const scored = [];
  // Inverse document frequency over chunks, so that rare words weigh more.
  const idf = (stem) => {
    const df = CHUNKS.filter((c) => fold(`${c.doc.title} ${c.heading} ${c.body}`).includes(stem)).length;
    return Math.log(1 + CHUNKS.length / (1 + df));
  };
  for (const c of CHUNKS) {
    if (filters.sources?.length && !filters.sources.includes(c.doc.source)) continue;
    if (filters.languages?.length && !filters.languages.includes(c.doc.language)) continue;
    if (after && Date.parse(c.doc.updated_at) < after) continue;
    const hay = fold(`${c.doc.title} ${c.heading} ${c.body}`);
    let score = 0;
    for (const q of qs) {
      const stem = q.length > 4 ? q.slice(0, -1) : q;
      const n = hay.split(stem).length - 1;
      score += n ? (1 + Math.log(n) * 0.5) * idf(stem) : 0;
    }
    if (score > 0) scored.push({ c, score });
  }
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, k).map(({ c, score }) => toResult(c, qs, score));
}

function snippet(body, qs) {
  // Mark words whose folded form starts with a query term's stem.
  const stems = qs.map((q) => (q.length > 4 ? q.slice(0, -1) : q));
  let text = body.length > 260 ? `${body.slice(0, 257)}…` : body;
  return text.replace(/[\p{L}\p{N}]+/gu, (w) => (stems.some((s) => fold(w).startsWith(s)) ? `<mark>${w}</mark>` : w));
}

function toResult(c, qs, score) {
  return {
    document_id: c.doc.id, chunk_id: c.chunk_id, title: c.doc.title, url: c.doc.url,
    source: sourceOf(c.doc.source), snippet: snippet(c.body, qs), score: Math.round(score * 100) / 10,
    language: c.doc.language, updated_at: c.doc.updated_at, heading_path: c.heading,
  };
}

function sendJSON(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(data);
}
const sendError = (res, status, code, message) => sendJSON(res, status, { error: { code, message } });

async function readBody(req) {
  const parts = [];
  for await (const p of req) parts.push(p);
  try { return JSON.parse(Buffer.concat(parts).toString('utf8') || '{}'); } catch { return null; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function composeAnswer(query, results, history) {
  const fr = /[éèàçù]|\b(je|les|des|combien|quel|quelle|est-ce|congés?|jours)\b/i.test(query);
  if (!results.length) {
    return fr ? 'Je n’ai trouvé aucun passage pertinent dans les documents.' : 'I found no relevant passage in the documents.';
  }
  const first = results[0];
  const firstChunk = CHUNKS.find((c) => c.chunk_id === first.chunk_id);
  const lines = [];
  if (history.length) lines.push(fr ? 'Pour compléter la réponse précédente :' : 'Following up on the previous answer:');
  lines.push(`${fr ? 'D’après' : 'According to'} « ${first.title.replace(/<[^>]*>/g, '')} », ${firstChunk.body.charAt(0).toLowerCase()}${firstChunk.body.slice(1)} [1]`);
  const bullets = results.slice(1, 3).map((r, i) => {
    const c = CHUNKS.find((x) => x.chunk_id === r.chunk_id);
    const sentence = c.body.split(/(?<=[.!?])\s/)[0];
    return `- ${sentence} [${i + 2}]`;
  });
  if (bullets.length) lines.push('', ...bullets);
  return lines.join('\n');
}

function splitDeltas(text) {
  // Pieces of about four words: citation markers may be cut in two.
  const words = text.split(/(?<=\s)/);
  const out = [];
  for (let i = 0; i < words.length; i += 4) out.push(words.slice(i, i + 4).join(''));
  return out;
}

async function handleChat(req, res, body) {
  const query = String(body.query || '');
  if (/http500/i.test(query)) return sendError(res, 500, 'internal', 'Mock internal error');
  const history = Array.isArray(body.history) ? body.history : [];
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  let closed = false;
  res.on('close', () => { closed = true; });
  // Each event is written in two pieces (split inside the payload, possibly
  // inside a multi-byte character) to exercise the client's parser.
  const send = async (event, data) => {
    if (closed) return;
    const bytes = Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, 'utf8');
    const cut = Math.max(1, Math.floor(bytes.length / 2) + 1);
    res.write(bytes.subarray(0, cut));
    await sleep(5);
    if (!closed) res.write(bytes.subarray(cut));
  };
  res.write(': mock stream\n\n');
  const t0 = performance.now();
  const results = searchChunks(query + ' ' + history.filter((m) => m.role === 'user').map((m) => m.content).join(' '), body.filters || {}, Math.min(Number(body.k) || 8, 8));
  await sleep(60);
  await send('sources', { results });
  const retrieveMs = performance.now() - t0;
  if (/\bfail\b/i.test(query)) {
    await sleep(DELTA_MS);
    await send('error', { code: 'model_unavailable', message: 'The language model did not answer (mock failure).' });
    return res.end();
  }
  const answer = composeAnswer(query, results, history);
  for (const piece of splitDeltas(answer)) {
    await sleep(DELTA_MS);
    await send('delta', { text: piece });
  }
  const used = [...new Set([...answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])))];
  await send('citations', {
    citations: used.filter((n) => results[n - 1]).map((n) => {
      const r = results[n - 1];
      const c = CHUNKS.find((x) => x.chunk_id === r.chunk_id);
      return { n, document_id: r.document_id, chunk_id: r.chunk_id, title: r.title, start: c.start, end: c.end };
    }),
  });
  const total = performance.now() - t0;
  await send('done', {
    mode: /generative/i.test(query) ? 'generative' : 'extractive',
    timings: { retrieve_ms: +retrieveMs.toFixed(1), answer_ms: +(total - retrieveMs).toFixed(1), total_ms: +total.toFixed(1) },
    notice: null,
  });
  res.end();
}

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.ico': 'image/x-icon',
};

async function serveStatic(req, res, pathname) {
  let rel = decodeURIComponent(pathname);
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.resolve(WEB, `.${rel}`);
  if (!file.startsWith(WEB + path.sep)) return sendError(res, 403, 'forbidden', 'Forbidden');
  try {
    const data = await fs.readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : data);
  } catch {
    sendError(res, 404, 'not_found', `No such file: ${rel}`);
  }
}

export function createServer() {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const p = url.pathname;
    try {
      if (p === '/api/me' && req.method === 'GET') {
        const mode = process.env.MOCK_MODE || 'single-user';
        return sendJSON(res, 200, { user: mode === 'single-user' ? 'local' : (process.env.MOCK_USER || 'alice'), groups: [], mode, admin: mode === 'single-user' });
      }
      if (p === '/api/sources' && req.method === 'GET') {
        const connector = (s) => s.kind !== 'files';
        return sendJSON(res, 200, { sources: SOURCES.map((s) => ({
          ...s,
          documents: DOCS.filter((d) => d.source === s.id).length,
          connector: connector(s),
          interval_min: connector(s) ? (s.interval_min ?? 60) : null,
          ...(connector(s) ? { credential_set: ['slack', 'confluence'].includes(s.kind), own_interval: s.interval_min != null } : {}),
          syncing: false,
          queued: false,
          status: connector(s) ? {
            last_attempt: '2026-03-02T09:00:00Z',
            last_success: s.kind === 'web' ? null : '2026-03-02T09:00:05Z',
            next_run: '2026-03-02T10:00:05Z',
            documents_seen: DOCS.filter((d) => d.source === s.id).length,
            errors: s.kind === 'web' ? ['https://intranet.example/: HTTP 503'] : [],
          } : { last_attempt: null, last_success: null, next_run: null, documents_seen: 0, errors: [] },
        })) });
      }
      // Add, configure, remove (the real server validates much more: src/connectors/sources.cc).
      if (p === '/api/sources' && req.method === 'POST') {
        const body = await readBody(req) || {};
        const kinds = ['slack', 'slack-export', 'confluence', 'confluence-export', 'web'];
        if (!kinds.includes(body.kind)) return sendError(res, 400, 'invalid_argument', `kind: unknown source kind '${body.kind}' (${kinds.join(', ')})`);
        if (!/^[\w.-]+$/.test(body.name || '')) return sendError(res, 400, 'invalid_argument', 'name: a source needs a name');
        if (['slack', 'confluence'].includes(body.kind) && !String(body.credential || '').trim())
          return sendError(res, 400, 'invalid_argument', `credential: a ${body.kind} source needs a token`);
        if (SOURCES.some((s) => s.name === body.name)) return sendError(res, 409, 'already_exists', `name: a source named '${body.name}' already exists`);
        const s = { id: Math.max(...SOURCES.map((x) => x.id)) + 1, kind: body.kind, name: body.name, interval_min: body.interval_min ?? null };
        SOURCES.push(s);
        return sendJSON(res, 201, { ...s, documents: 0, connector: true, interval_min: s.interval_min ?? 60, syncing: false, queued: false,
          credential_set: !!body.credential, own_interval: s.interval_min != null, status: { last_attempt: null, last_success: null, next_run: null, documents_seen: 0, errors: [] } });
      }
      const one = p.match(/^\/api\/sources\/([^/]+)$/);
      if (one && (req.method === 'PATCH' || req.method === 'DELETE')) {
        const i = SOURCES.findIndex((s) => String(s.id) === one[1]);
        if (i < 0) return sendError(res, 404, 'not_found', `no source ${one[1]}`);
        if (req.method === 'DELETE') {
          const [s] = SOURCES.splice(i, 1);
          return sendJSON(res, 200, { removed: s.id, name: s.name, documents: DOCS.filter((d) => d.source === s.id).length });
        }
        const body = await readBody(req) || {};
        if ('interval_min' in body) SOURCES[i].interval_min = body.interval_min;
        return sendJSON(res, 200, { ...SOURCES[i], documents: DOCS.filter((d) => d.source === SOURCES[i].id).length, connector: true,
          interval_min: SOURCES[i].interval_min ?? 60, credential_set: ['slack', 'confluence'].includes(SOURCES[i].kind),
          own_interval: SOURCES[i].interval_min != null, syncing: false, queued: false, status: null });
      }
      const sync = p.match(/^\/api\/sources\/([^/]+)\/sync$/);
      if (sync && req.method === 'POST') {
        if (!SOURCES.some((s) => String(s.id) === sync[1])) return sendError(res, 404, 'not_found', `no source ${sync[1]}`);
        return sendJSON(res, 202, { status: 'queued', source_id: Number(sync[1]) });
      }
      if (p === '/api/search' && req.method === 'POST') {
        const body = await readBody(req);
        if (!body || typeof body.query !== 'string') return sendError(res, 400, 'bad_request', 'query is required');
        if (/searchfail/i.test(body.query)) return sendError(res, 500, 'internal', 'Mock search failure');
        const t0 = performance.now();
        const results = searchChunks(body.query, body.filters || {}, Number(body.k) || 10);
        return sendJSON(res, 200, { results, took_ms: +(performance.now() - t0 + 0.8).toFixed(2) });
      }
      if (p === '/api/chat' && req.method === 'POST') {
        const body = await readBody(req);
        if (!body || typeof body.query !== 'string') return sendError(res, 400, 'bad_request', 'query is required');
        return await handleChat(req, res, body);
      }
      const m = p.match(/^\/api\/documents\/(\d+)$/);
      if (m && req.method === 'GET') {
        const doc = DOCS.find((d) => d.id === Number(m[1]));
        if (!doc) return sendError(res, 404, 'not_found', 'No such document');
        const chunkId = url.searchParams.get('chunk');
        const chunk = chunkId != null ? doc.chunks.find((c) => c.chunk_id === Number(chunkId)) : null;
        await sleep(30);
        return sendJSON(res, 200, {
          id: doc.id, title: doc.title, url: doc.url, source: sourceOf(doc.source), language: doc.language, updated_at: doc.updated_at,
          text: doc.text, passage: chunk ? { chunk_id: chunk.chunk_id, start: chunk.start, end: chunk.end } : null,
          heading_path: chunk?.heading || '',
        });
      }
      if (p.startsWith('/api/')) return sendError(res, 404, 'not_found', 'No such endpoint');
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'Method not allowed');
      return await serveStatic(req, res, p);
    } catch (e) {
      if (!res.headersSent) sendError(res, 500, 'internal', String(e?.message || e));
      else res.end();
    }
  });
}

/** Starts the server; resolves to {server, url}. */
export function start(port = 0, host = '127.0.0.1') {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolve({ server, url: `http://${host}:${p}` });
    });
  });
}

// Expose the corpus for tests that want to know the expected passage.
export const fixtures = { DOCS, CHUNKS };

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
  const { url } = await start(port);
  console.log(`Savoir mock server on ${url}`);
}
