// A fake Slack Web API for connector tests (no dependencies). Responses use
// Slack's JSON shapes: {"ok":true,...}, {"ok":false,"error":"..."},
// response_metadata.next_cursor paging, has_more, Retry-After on 429.
//
// Usage: node fake-slack.mjs STATE.json PORT_FILE LOG_FILE
// The state file is re-read on every request, so a test changes the
// workspace (delete a message, change members) by rewriting it:
//   { "token": "xoxb-good", "domain": "fakeco", "page_size": 2, "delay_ms": 0,
//     "users": [{"id","name","real_name"}],
//     "channels": [{"id","name","is_private","members":[...]},
//                  {"id":"D1","is_im":true,"user":"U2","members":[...]}, {"id","name","is_mpim":true,"members"}],
//     "no_dm_scope": false,   // true: conversations.list with im/mpim answers missing_scope
//     "messages": {"C1": [{"ts","user","text","thread_ts"?}]},
//     "faults": [{"method","channel"?,"status":429|500,"retry_after"?}] }  // each fires once
// Every request is appended to LOG_FILE as "method status".
import http from 'node:http';
import fs from 'node:fs';

const [stateFile, portFile, logFile] = process.argv.slice(2);
const fired = new Set();

function page(items, params, state) {
  const limit = Math.min(Number(params.get('limit') || 100), state.page_size || 100);
  const start = params.get('cursor') ? Number(Buffer.from(params.get('cursor'), 'base64').toString()) : 0;
  const slice = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64') : '';
  return { slice, next };
}

function messagesOf(state, channel) { return (state.messages && state.messages[channel]) || []; }

function handle(method, params, state) {
  switch (method) {
    case 'auth.test':
      return { ok: true, url: `https://${state.domain}.slack.com/`, team: state.domain, user: 'savoir', team_id: 'T1', user_id: 'U0' };
    case 'users.list': {
      const { slice, next } = page(state.users, params, state);
      return { ok: true, members: slice, response_metadata: { next_cursor: next } };
    }
    case 'conversations.list': {
      const types = (params.get('types') || 'public_channel').split(',');
      // A token without im:read / mpim:read may not list DMs at all.
      if (state.no_dm_scope && (types.includes('im') || types.includes('mpim')))
        return { ok: false, error: 'missing_scope', needed: 'im:read,mpim:read', provided: 'channels:read,groups:read' };
      const typeOf = c => c.is_im ? 'im' : c.is_mpim ? 'mpim' : c.is_private ? 'private_channel' : 'public_channel';
      const chans = state.channels.filter(c => types.includes(typeOf(c)))
        .map(c => c.is_im
          // Slack's IM object: no name, the peer in `user`.
          ? { id: c.id, created: 1690000000, is_im: true, is_org_shared: false, user: c.user, is_user_deleted: false, priority: 0 }
          : { id: c.id, name: c.name, is_channel: !c.is_private && !c.is_mpim, is_group: !!c.is_mpim, is_mpim: !!c.is_mpim,
              is_private: !!(c.is_private || c.is_mpim), is_archived: false, created: 1690000000, num_members: (c.members || []).length });
      const { slice, next } = page(chans, params, state);
      return { ok: true, channels: slice, response_metadata: { next_cursor: next } };
    }
    case 'conversations.members': {
      const c = state.channels.find(c => c.id === params.get('channel'));
      if (!c) return { ok: false, error: 'channel_not_found' };
      const { slice, next } = page(c.members || [], params, state);
      return { ok: true, members: slice, response_metadata: { next_cursor: next } };
    }
    case 'conversations.history': {
      const ch = params.get('channel');
      if (!state.channels.find(c => c.id === ch)) return { ok: false, error: 'channel_not_found' };
      const oldest = Number(params.get('oldest') || 0);
      const all = messagesOf(state, ch);
      const top = all.filter(m => !m.thread_ts || m.thread_ts === m.ts)
        .filter(m => Number(m.ts) >= oldest)
        .sort((a, b) => Number(b.ts) - Number(a.ts))  // newest first, as Slack
        .map(m => {
          const replies = all.filter(r => r.thread_ts === m.ts && r.ts !== m.ts);
          const out = { type: 'message', user: m.user, text: m.text, ts: m.ts };
          if (replies.length) Object.assign(out, { thread_ts: m.ts, reply_count: replies.length });
          if (m.edited) out.edited = { user: m.user, ts: m.edited };
          return out;
        });
      const { slice, next } = page(top, params, state);
      return { ok: true, messages: slice, has_more: next !== '', pin_count: 0, response_metadata: { next_cursor: next } };
    }
    case 'conversations.replies': {
      const ch = params.get('channel'), ts = params.get('ts');
      const thread = messagesOf(state, ch).filter(m => m.ts === ts || m.thread_ts === ts)
        .sort((a, b) => Number(a.ts) - Number(b.ts))
        .map(m => ({ type: 'message', user: m.user, text: m.text, ts: m.ts, thread_ts: ts }));
      if (!thread.length) return { ok: false, error: 'thread_not_found' };
      const { slice, next } = page(thread, params, state);
      return { ok: true, messages: slice, has_more: next !== '', response_metadata: { next_cursor: next } };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const method = url.pathname.replace(/^\/api\//, '').replace(/^\//, '');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const reply = (status, body, headers = {}) => {
    fs.appendFileSync(logFile, `${method} ${status}${body.error ? ' ' + body.error : ''}\n`);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  setTimeout(() => {
    const auth = req.headers.authorization || '';
    if (auth !== `Bearer ${state.token}`) return reply(200, { ok: false, error: 'invalid_auth' });
    const faults = state.faults || [];
    for (let i = 0; i < faults.length; ++i) {
      const f = faults[i];
      const key = JSON.stringify(f);
      if (fired.has(key) || f.method !== method) continue;
      if (f.channel && f.channel !== url.searchParams.get('channel')) continue;
      fired.add(key);
      if (f.status === 429)
        return reply(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(f.retry_after || 1) });
      return reply(f.status, { ok: false, error: 'internal_error' });
    }
    reply(200, handle(method, url.searchParams, state));
  }, state.delay_ms || 0);
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
