// A fake web site for the web connector's tests and benchmark (no
// dependencies): pages wrapped in site chrome (navigation, cookie banner,
// footer), robots.txt, a sitemap index with one sitemap, an RSS feed and an
// Atom feed, strong ETags and Last-Modified with 304 answers, and one-shot
// faults (429 with Retry-After).
//
// Usage: node fake-site.mjs STATE.json PORT_FILE LOG_FILE
// The state file is re-read on every request, so a test changes the site by
// rewriting it:
//   { "robots": "User-agent: *\nDisallow: /private/\n",
//     "pages": {"/path": {"title", "body" (HTML), "canonical"?, "blog"?}},
//     "generate": 0,      // also serve /gen/0 .. /gen/N-1 (a binary tree of links from /)
//     "delay_ms": 0,      // answer every request this late (kill tests)
//     "faults": [{"path", "status", "retry_after"?}] }   // each fires once
// Every request is appended to LOG_FILE as "GET path status".
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';

const [stateFile, portFile, logFile] = process.argv.slice(2);
const fired = new Set();
const log = fs.createWriteStream(logFile, { flags: 'a' });
const LAST_MODIFIED = 'Tue, 14 Nov 2023 10:00:00 GMT';

const WORDS = ('policy team report budget travel office security laptop vacation meeting project review ' +
  'customer invoice contract support release roadmap training benefit payroll onboarding expense ' +
  'warehouse shipping quality audit vendor license backup network printer badge parking kitchen').split(' ');

function generated(n, i) {
  let x = (i + 1) * 2654435761 % 4294967296;
  const words = [];
  for (let k = 0; k < 250; k++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    words.push(WORDS[x % WORDS.length]);
  }
  const kids = [2 * i + 1, 2 * i + 2].filter(k => k < n).map(k => `<a href="/gen/${k}">page ${k}</a>`).join(' ');
  return { title: `Generated page ${i}`, body: `<h1>Page ${i}</h1><p>${words.join(' ')} gen${i}marker.</p><p>${kids}</p>` };
}

function allPages(state) {
  const pages = { ...(state.pages || {}) };
  return pages;
}

function pageOf(state, path) {
  const n = state.generate || 0;
  const m = path.match(/^\/gen\/(\d+)$/);
  if (m && Number(m[1]) < n) return generated(n, Number(m[1]));
  return allPages(state)[path];
}

function render(state, path, page) {
  const nav = Object.keys(allPages(state)).map(p => `<li><a href="${p}">${p} zeppelinnav</a></li>`).join('');
  const gen = state.generate ? '<a href="/gen/0">generated</a>' : '';
  const canonical = page.canonical ? `<link rel="canonical" href="${page.canonical}#top">` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${page.title}</title>${canonical}</head>
<body><header><nav><ul>${nav}</ul>${gen}</nav></header>
<div class="cookie-banner">We use cookies to improve marmaladeconsent. <a href="/cookies">Accept</a></div>
<main><article>${page.body}</article></main>
<footer><p>Copyright 2026 Acme footerwalrus. <a href="mailto:web@acme.test">Contact</a></p></footer></body></html>`;
}

function sitemapIndex(base) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${base}/sitemap-pages.xml</loc></sitemap></sitemapindex>`;
}

function sitemap(state, base) {
  const paths = Object.keys(allPages(state));
  for (let i = 0; i < (state.generate || 0); i++) paths.push(`/gen/${i}`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${paths.map(p => `<url><loc>${base}${p}</loc></url>`).join('')}</urlset>`;
}

function rss(state, base) {
  const items = Object.entries(allPages(state)).filter(([, p]) => p.blog)
    .map(([path, p]) => `<item><title>${p.title}</title><link>${base}${path}</link></item>`).join('');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Acme blog</title>${items}</channel></rss>`;
}

function atom(state, base) {
  const entries = Object.entries(allPages(state)).filter(([, p]) => p.blog)
    .map(([path, p]) => `<entry><title>${p.title}</title><link rel="alternate" href="${base}${path}"/></entry>`).join('');
  return `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Acme</title>${entries}</feed>`;
}

const server = http.createServer((req, res) => {
  const delay = JSON.parse(fs.readFileSync(stateFile, 'utf8')).delay_ms || 0;
  if (delay) setTimeout(() => serve(req, res), delay);
  else serve(req, res);
});

function serve(req, res) {
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const base = `http://${req.headers.host}`;
  const send = (status, body, headers = {}) => {
    log.write(`GET ${path} ${status}\n`);
    res.writeHead(status, headers);
    res.end(body);
  };
  const fault = (state.faults || []).findIndex((f, i) => f.path === path && !fired.has(i));
  if (fault >= 0) {
    fired.add(fault);
    const f = state.faults[fault];
    return send(f.status, 'slow down', f.retry_after ? { 'Retry-After': String(f.retry_after) } : {});
  }
  const xml = { 'Content-Type': 'application/xml' };
  if (path === '/robots.txt') return state.robots ? send(200, state.robots, { 'Content-Type': 'text/plain' }) : send(404, '');
  if (path === '/sitemap.xml') return send(200, sitemapIndex(base), xml);
  if (path === '/sitemap-pages.xml') return send(200, sitemap(state, base), xml);
  if (path === '/feed.xml') return send(200, rss(state, base), xml);
  if (path === '/atom.xml') return send(200, atom(state, base), xml);
  const page = pageOf(state, path);
  if (!page) return send(404, 'not found', { 'Content-Type': 'text/html' });
  const html = render(state, path, page);
  const etag = '"' + crypto.createHash('sha1').update(html).digest('hex').slice(0, 16) + '"';
  if (req.headers['if-none-match'] === etag) return send(304, '', { ETag: etag });
  send(200, html, { 'Content-Type': 'text/html; charset=utf-8', ETag: etag, 'Last-Modified': LAST_MODIFIED });
}
server.keepAliveTimeout = 1000;
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
