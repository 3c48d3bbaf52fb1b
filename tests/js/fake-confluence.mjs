// A fake Confluence REST API v1 for connector tests (no dependencies), served
// under the context path /wiki with the JSON shapes of the public REST docs:
// /rest/api/space and /rest/api/content/search (start/limit paging through
// _links.next, relative to _links.base), /rest/api/content/{id}; expanded
// body.storage, version, ancestors, history, metadata.labels and
// restrictions.read.restrictions.{user,group}.
//
// Usage: node fake-confluence.mjs STATE.json PORT_FILE LOG_FILE
// The state file is re-read on every request, so a test edits the site by
// rewriting it:
//   { "email": "bot@acme.test", "token": "api-token",   // Cloud basic auth
//     "pat": "dc-pat",                                    // Data Center bearer
//     "page_size": 2, "space_page_size": 1, "delay_ms": 0,
//     "spaces": [{"key", "name"}],
//     "content": [{"id", "space", "type": "page"|"blogpost", "title", "parent"?, "version", "when",
//                  "author", "labels": [], "body", "users"?: [accountId], "groups"?: [name],
//                  "archived"?: true,     // archived: not returned by search, readable by id
//                  "attachments"?: [{"id", "title", "mediaType", "version", "file": path on disk}],
//                  "comments"?: [{"id", "author", "when", "version", "body", "parent"?: comment id,
//                                 "location"?: "footer"|"inline"}]}],
//     // comments listed by /rest/api/content/{id}/child/comment (paged; location, depth=all)
//     // listed by /rest/api/content/{id}/child/attachment (paged), bytes at
//     // /download/attachments/{page id}/{title}?version=N
//     "faults": [{"path": "search"|"space"|"content", "status": 429|500, "retry_after"?}] }  // each fires once
// Every request is appended to LOG_FILE as "<search|space|content|attachment|comment|download> status".
import http from 'node:http';
import fs from 'node:fs';

const [stateFile, portFile, logFile] = process.argv.slice(2);
const fired = new Set();
const CONTEXT = '/wiki';

function paged(items, params, pageSize, path) {
  const limit = Math.min(Number(params.get('limit') || 25), pageSize || 25);
  const start = Number(params.get('start') || 0);
  const results = items.slice(start, start + limit);
  const links = { base: `http://${host}${CONTEXT}`, context: CONTEXT, self: `http://${host}${CONTEXT}${path}` };
  if (start + limit < items.length) {
    const next = new URLSearchParams(params);
    next.set('start', String(start + limit));
    next.set('limit', String(limit));
    links.next = `${path}?${next.toString()}`;
  }
  return { results, start, limit, size: results.length, _links: links };
}

function restrictionsOf(c) {
  const users = (c.users || []).map(id => ({ type: 'known', accountId: id, displayName: id }));
  const groups = (c.groups || []).map(name => ({ type: 'group', name }));
  const part = r => ({ results: r, start: 0, limit: 200, size: r.length });
  return { read: { operation: 'read', restrictions: { user: part(users), group: part(groups) } } };
}

function ancestorsOf(state, c) {
  const chain = [];
  for (let p = c.parent; p;) {
    const a = state.content.find(x => x.id === p);
    if (!a) break;
    chain.unshift({ id: a.id, type: a.type, status: 'current', title: a.title });
    p = a.parent;
  }
  return chain;
}

function render(state, c, expand, withBase) {
  const space = state.spaces.find(s => s.key === c.space) || { key: c.space, name: c.space };
  const by = { type: 'known', accountId: 'acc-' + c.author, displayName: c.author, publicName: c.author };
  const out = { id: c.id, type: c.type, status: 'current', title: c.title, space: { key: space.key, name: space.name },
    version: { by, when: c.when, number: c.version, minorEdit: false },
    _links: { webui: c.type === 'blogpost' ? `/spaces/${c.space}/blog/${c.id}` : `/spaces/${c.space}/pages/${c.id}`,
              self: `http://${host}${CONTEXT}/rest/api/content/${c.id}`, tinyui: `/x/${c.id}` },
    _expandable: {} };
  if (expand.includes('ancestors')) out.ancestors = ancestorsOf(state, c);
  if (expand.includes('history')) out.history = { latest: true, createdBy: by, createdDate: c.created || c.when };
  if (expand.includes('body.storage')) out.body = { storage: { value: c.body || '', representation: 'storage' } };
  if (expand.includes('metadata.labels'))
    out.metadata = { labels: { results: (c.labels || []).map((name, i) => ({ prefix: 'global', name, id: String(i) })),
                               start: 0, limit: 200, size: (c.labels || []).length } };
  if (expand.includes('restrictions.read')) out.restrictions = restrictionsOf(c);
  if (withBase) Object.assign(out._links, { base: `http://${host}${CONTEXT}`, context: CONTEXT });
  return out;
}

// The CQL the connector sends: space="KEY" and type in (page,blogpost)
// [and lastmodified >= "yyyy-MM-dd HH:mm"] (times as UTC here).
function search(state, cql) {
  const space = (cql.match(/space\s*=\s*"?([A-Za-z0-9_~-]+)"?/) || [])[1];
  const types = ((cql.match(/type\s+in\s*\(([^)]*)\)/) || [])[1] || 'page,blogpost').split(',').map(s => s.trim());
  const since = (cql.match(/lastmodified\s*>=\s*"([^"]+)"/) || [])[1];
  const sinceMs = since ? Date.parse(since.replace(' ', 'T') + ':00Z') : 0;
  return state.content.filter(c => !c.archived && (!space || c.space === space) && types.includes(c.type) &&
                                   Date.parse(c.when) >= sinceMs)
    .sort((a, b) => Number(a.id) - Number(b.id));
}

let host = '';
const server = http.createServer((req, res) => {
  const delay = JSON.parse(fs.readFileSync(stateFile, 'utf8')).delay_ms || 0;
  setTimeout(() => serve(req, res), delay);
});

function serve(req, res) {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname.startsWith(CONTEXT) ? url.pathname.slice(CONTEXT.length) : url.pathname;
  const kind = path.startsWith('/rest/api/content/search') ? 'search'
    : path.startsWith('/rest/api/space') ? 'space'
    : /^\/rest\/api\/content\/[^/]+\/child\/attachment/.test(path) ? 'attachment'
    : /^\/rest\/api\/content\/[^/]+\/child\/comment/.test(path) ? 'comment'
    : path.startsWith('/rest/api/content/') ? 'content'
    : path.startsWith('/download/attachments/') ? 'download' : 'other';
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const reply = (status, body, headers = {}) => {
    fs.appendFileSync(logFile, `${kind} ${status}\n`);
    res.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const auth = req.headers.authorization || '';
  const basic = 'Basic ' + Buffer.from(`${state.email}:${state.token}`).toString('base64');
  if (auth !== basic && auth !== `Bearer ${state.pat}`)
    return reply(401, { statusCode: 401, message: 'This request requires authentication (token expired or invalid)' });
  for (const f of state.faults || []) {
    const key = JSON.stringify(f);
    if (fired.has(key) || f.path !== kind) continue;
    fired.add(key);
    return reply(f.status, { statusCode: f.status, message: 'fault' },
                 f.status === 429 ? { 'Retry-After': String(f.retry_after || 1) } : {});
  }
  const expand = url.searchParams.get('expand') || '';
  if (kind === 'space') {
    const spaces = state.spaces.map((s, i) => ({ id: i + 1, key: s.key, name: s.name, type: 'global', status: 'current',
                                                 _links: { webui: `/spaces/${s.key}` } }));
    return reply(200, paged(spaces, url.searchParams, state.space_page_size, '/rest/api/space'));
  }
  if (kind === 'search') {
    const found = search(state, url.searchParams.get('cql') || '').map(c => render(state, c, expand, false));
    const body = paged(found, url.searchParams, state.page_size, '/rest/api/content/search');
    body.totalSize = found.length;
    body.cqlQuery = url.searchParams.get('cql');
    return reply(200, body);
  }
  if (kind === 'attachment') {
    const id = path.split('/')[4];
    const c = state.content.find(x => x.id === id);
    if (!c) return reply(404, { statusCode: 404, message: 'No content found with id' });
    const atts = (c.attachments || []).map(a => ({
      id: a.id, type: 'attachment', status: 'current', title: a.title,
      version: { by: { type: 'known', accountId: 'acc-' + c.author, displayName: c.author }, when: c.when, number: a.version },
      metadata: { mediaType: a.mediaType },
      extensions: { mediaType: a.mediaType, fileSize: fs.statSync(a.file).size },
      _links: { download: `/download/attachments/${c.id}/${encodeURIComponent(a.title)}?version=${a.version}&api=v2`,
                webui: `/pages/viewpageattachments.action?pageId=${c.id}` } }));
    return reply(200, paged(atts, url.searchParams, state.page_size, path));
  }
  if (kind === 'comment') {
    // Footer and inline comments; replies name their parent comment. Without
    // depth=all only top-level comments are returned, as Confluence does.
    const id = path.split('/')[4];
    const c = state.content.find(x => x.id === id);
    if (!c) return reply(404, { statusCode: 404, message: 'No content found with id' });
    const location = url.searchParams.get('location');
    const all = url.searchParams.get('depth') === 'all';
    const comments = (c.comments || [])
      .filter(m => (!location || (m.location || 'footer') === location) && (all || !m.parent))
      .map(m => ({
        id: m.id, type: 'comment', status: 'current', title: `Re: ${c.title}`,
        version: { by: { type: 'known', accountId: 'acc-' + m.author, displayName: m.author }, when: m.when, number: m.version || 1 },
        ...(expand.includes('body.storage') ? { body: { storage: { value: m.body, representation: 'storage' } } } : {}),
        extensions: { location: m.location || 'footer' },
        ...(m.parent ? { ancestors: [{ id: m.parent, type: 'comment' }] } : {}),
        _links: { webui: `/spaces/${c.space}/pages/${c.id}?focusedCommentId=${m.id}#comment-${m.id}` } }));
    return reply(200, paged(comments, url.searchParams, state.page_size, path));
  }
  if (kind === 'download') {
    const [, , , pageId, name] = path.split('/');
    const c = state.content.find(x => x.id === pageId);
    const a = c && (c.attachments || []).find(x => x.title === decodeURIComponent(name));
    if (!a) return reply(404, { statusCode: 404, message: 'no attachment' });
    fs.appendFileSync(logFile, `download 200 ${a.title}\n`);
    res.writeHead(200, { 'Content-Type': a.mediaType });
    return res.end(fs.readFileSync(a.file));
  }
  if (kind === 'content') {
    const c = state.content.find(x => x.id === path.slice('/rest/api/content/'.length));
    if (!c) return reply(404, { statusCode: 404, message: 'No content found with id' });
    return reply(200, render(state, c, expand, true));
  }
  reply(404, { statusCode: 404, message: 'not found' });
}
server.listen(0, '127.0.0.1', () => {
  host = `127.0.0.1:${server.address().port}`;
  fs.writeFileSync(portFile, String(server.address().port));
});
