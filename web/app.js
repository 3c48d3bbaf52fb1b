// Savoir web UI: search, streamed answers with citations, document view,
// per-user chat history, filters, FR/EN, dark mode. No dependencies.
import * as api from './api.js';
import { t, setLang, detectLang, lang, formatDate, formatNumber } from './i18n.js';
import { byteRangeToIndices, parseSnippet, splitCitations } from './text.js';

const $ = (sel) => document.querySelector(sel);
const els = {
  banner: $('#banner'), appError: $('#app-error'), user: $('#user'),
  newChat: $('#new-chat'), historyBtn: $('#history-btn'), langSelect: $('#lang-select'), themeBtn: $('#theme-btn'),
  form: $('#search-form'), q: $('#q'), ask: $('#ask'), stop: $('#stop'),
  filtersBtn: $('#filters-btn'), filtersLabel: $('#filters-label'), filters: $('#filters'), filterSummary: $('#filter-summary'),
  sourceList: $('#source-list'), fDate: $('#f-date'), fLang: $('#f-lang'), filtersClear: $('#filters-clear'),
  chat: $('#chat'), answerPanel: $('#answer-panel'),
  results: $('#results'), resultsMeta: $('#results-meta'), resultsIntro: $('#results-intro'),
  status: $('#status'),
  docDialog: $('#doc-dialog'), docTitle: $('#doc-title'), docSource: $('#doc-source'), docMeta: $('#doc-meta'),
  docBody: $('#doc-body'), docClose: $('#doc-close'),
  adminBtn: $('#admin-btn'), adminDialog: $('#admin-dialog'), adminClose: $('#admin-close'), adminList: $('#admin-list'), adminError: $('#admin-error'),
  adminAddBar: $('#admin-add-bar'), adminAdd: $('#admin-add'), sourceForm: $('#source-form'), sourceFormFields: $('#source-form-fields'),
  sourceFormError: $('#source-form-error'), sourceFormCancel: $('#source-form-cancel'), sourceFormSubmit: $('#source-form-submit'),
  historyDialog: $('#history-dialog'), historyList: $('#history-list'), historyClose: $('#history-close'),
};

const MAX_CHATS = 40;
const SEARCH_K = 10;
const CHAT_K = 8;
const MAX_HISTORY_TURNS = 6; // previous question/answer pairs sent as `history`

const state = {
  user: null,
  mode: null,
  admin: false,        // may add, configure and remove sources
  sources: [],
  chats: [],
  chat: null,          // current chat {id, title, createdAt, updatedAt, turns: [...]}
  run: null,           // {controller, turn} of the streaming question
  results: null,       // {items, tookMs, error, fromChat} shown in the results panel
  docController: null,
  docReturnFocus: null,
};

/* ---------- small DOM helpers ---------- */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

const KINDS = { file: 'files', files: 'files', slack: 'slack', 'slack-export': 'slack', confluence: 'confluence', web: 'web', website: 'web', site: 'web' };
const kindOf = (source) => KINDS[String(source?.kind || '').toLowerCase()] || 'files';
const kindLabel = (source) => t(`kind.${kindOf(source)}`);

function sourceBadge(source) {
  const kind = kindOf(source);
  return h('span', { class: `kind kind-${kind}`, title: kindLabel(source) }, icon(kind), h('span', { class: 'visually-hidden' }, kindLabel(source)));
}

function announce(msg) {
  els.status.textContent = '';
  // Changing the text on the next frame makes screen readers re-announce identical messages.
  requestAnimationFrame(() => { els.status.textContent = msg; });
}

function errorMessage(e) {
  if (!e) return '';
  if (e.code === 'network') return t('error.network');
  return e.message || String(e.code || e);
}

function snippetNodes(snippet) {
  return parseSnippet(snippet).map((p) => (p.mark ? h('mark', null, p.text) : document.createTextNode(p.text)));
}

function formatDuration(ms) {
  return ms >= 1000 ? `${formatNumber(ms / 1000, 1)} s` : `${formatNumber(ms, ms < 10 ? 1 : 0)} ms`;
}

const isEditable = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

/* ---------- theme ---------- */

const darkQuery = matchMedia('(prefers-color-scheme: dark)');
// 'dark' | 'light' when the user chose, null to follow the system.
let themeChoice = (() => {
  try {
    const v = localStorage.getItem('savoir.theme');
    return v === 'dark' || v === 'light' ? v : null;
  } catch { return null; }
})();
const effectiveDark = () => (themeChoice ? themeChoice === 'dark' : darkQuery.matches);
function applyTheme() {
  if (themeChoice) document.documentElement.dataset.theme = themeChoice;
  else delete document.documentElement.dataset.theme;
  const dark = effectiveDark();
  els.themeBtn.setAttribute('aria-pressed', String(dark));
  els.themeBtn.title = dark ? t('theme.toLight') : t('theme.toDark');
}
els.themeBtn.addEventListener('click', () => {
  const next = effectiveDark() ? 'light' : 'dark';
  themeChoice = next;
  try { localStorage.setItem('savoir.theme', next); } catch { /* storage disabled: this page only */ }
  // No colour transitions while the whole page changes theme.
  document.documentElement.classList.add('no-transitions');
  applyTheme();
  requestAnimationFrame(() => requestAnimationFrame(() => document.documentElement.classList.remove('no-transitions')));
});
darkQuery.addEventListener('change', applyTheme);

/* ---------- language ---------- */

function switchLang(l, remember) {
  setLang(l, remember);
  els.langSelect.value = lang();
  applyTheme();
  renderFilterSummary();
  renderSourcesFilter();
  renderResults();
  renderChat();
  updatePlaceholder();
  if (els.historyDialog.open) renderHistory();
}
els.langSelect.addEventListener('change', () => switchLang(els.langSelect.value, true));

/* ---------- chat storage (localStorage, per user) ---------- */

const storageKey = () => `savoir.chats.v1:${state.user || 'anonymous'}`;

function loadChats() {
  try {
    const raw = localStorage.getItem(storageKey());
    const list = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? list.filter((c) => c && c.id && Array.isArray(c.turns)) : [];
  } catch {
    return [];
  }
}

function compactTurn(turn, keepResults) {
  const { q, answer, sources, citations, mode, notice, status, error, timings, at } = turn;
  const slim = (r) => ({
    document_id: r.document_id, chunk_id: r.chunk_id, title: r.title, url: r.url, source: r.source,
    snippet: r.snippet, language: r.language, updated_at: r.updated_at, heading_path: r.heading_path,
  });
  return {
    q, answer, mode, notice, error, timings, at, citations,
    status: status === 'streaming' || status === 'searching' ? 'stopped' : status,
    sources: (sources || []).map(slim),
    results: keepResults && turn.results ? { ...turn.results, items: (turn.results.items || []).map(slim) } : undefined,
  };
}

function saveChats() {
  const list = state.chats
    .filter((c) => c.turns.length)
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(0, MAX_CHATS)
    .map((c) => ({ ...c, turns: c.turns.map((turn, i) => compactTurn(turn, i === c.turns.length - 1)) }));
  for (let n = list.length; n >= 0; n--) {
    try {
      localStorage.setItem(storageKey(), JSON.stringify(list.slice(0, n)));
      return;
    } catch { /* quota: drop the oldest chats and retry */ }
  }
}

function newChatObject(title) {
  const now = Date.now();
  const id = (crypto.randomUUID?.() ?? `${now}-${Math.random().toString(36).slice(2)}`);
  return { id, title: title.slice(0, 120), createdAt: now, updatedAt: now, turns: [] };
}

function startNewChat({ focus = true } = {}) {
  abortRun();
  state.chat = null;
  state.results = null;
  renderChat();
  renderResults();
  updatePlaceholder();
  els.q.value = '';
  if (focus) els.q.focus();
}

function openChat(id) {
  const chat = state.chats.find((c) => c.id === id);
  if (!chat) return;
  abortRun();
  state.chat = chat;
  const last = chat.turns[chat.turns.length - 1];
  state.results = last?.results || (last?.sources?.length ? { items: last.sources, fromChat: true } : null);
  renderChat();
  renderResults();
  updatePlaceholder();
  els.q.value = '';
}

function deleteChat(id) {
  state.chats = state.chats.filter((c) => c.id !== id);
  if (state.chat?.id === id) startNewChat({ focus: false });
  saveChats();
  renderHistory();
}

/* ---------- history dialog ---------- */

function renderHistory() {
  const list = [...state.chats].filter((c) => c.turns.length).sort((a, b) => b.updatedAt - a.updatedAt);
  els.historyList.replaceChildren();
  if (!list.length) {
    els.historyList.append(h('li', { class: 'muted history-empty' }, t('chat.noHistory')));
    return;
  }
  for (const c of list) {
    const n = c.turns.length;
    const current = state.chat?.id === c.id;
    els.historyList.append(h('li', { class: 'history-item' },
      h('button', {
        type: 'button', class: 'history-open', 'aria-current': current ? 'true' : null,
        onclick: () => { els.historyDialog.close(); openChat(c.id); els.q.focus(); },
      },
      h('span', { class: 'history-title' }, c.title),
      h('span', { class: 'history-meta' },
        formatDate(new Date(c.updatedAt).toISOString(), { dateStyle: 'medium', timeStyle: 'short' }),
        ' · ', n === 1 ? t('chat.turn1') : t('chat.turns', { n }),
        current ? ` · ${t('chat.current')}` : '')),
      h('button', {
        type: 'button', class: 'btn btn-icon history-delete', 'aria-label': t('chat.delete', { title: c.title }), title: t('chat.delete', { title: c.title }),
        onclick: (ev) => {
          const pos = [...els.historyList.children].indexOf(ev.currentTarget.closest('li'));
          deleteChat(c.id);
          const buttons = els.historyList.querySelectorAll('.history-delete');
          (buttons[Math.min(pos, buttons.length - 1)] || els.historyClose).focus();
        },
      }, icon('trash'))));
  }
}

els.historyBtn.addEventListener('click', () => {
  renderHistory();
  els.historyDialog.showModal();
  (els.historyList.querySelector('.history-open') || els.historyClose).focus();
});
els.historyClose.addEventListener('click', () => els.historyDialog.close());
els.historyDialog.addEventListener('close', () => els.historyBtn.isConnected && document.activeElement === document.body && els.historyBtn.focus());
els.newChat.addEventListener('click', () => startNewChat());

/* ---------- filters ---------- */

function currentFilters() {
  const f = {};
  const checked = [...els.sourceList.querySelectorAll('input:checked')].map((i) => Number(i.value));
  if (checked.length && checked.length < state.sources.length) f.sources = checked;
  if (els.fLang.value) f.languages = [els.fLang.value];
  if (els.fDate.value) f.updated_after = els.fDate.value;
  return f;
}

function renderSourcesFilter() {
  const checked = new Set([...els.sourceList.querySelectorAll('input:checked')].map((i) => i.value));
  els.sourceList.replaceChildren();
  if (!state.sources.length) {
    els.sourceList.append(h('p', { class: 'muted' }, t('filters.allSources')));
    return;
  }
  for (const s of state.sources) {
    const id = `f-src-${s.id}`;
    els.sourceList.append(h('label', { class: 'check', for: id },
      h('input', { type: 'checkbox', id, value: String(s.id), checked: checked.has(String(s.id)) || null, onchange: renderFilterSummary }),
      sourceBadge(s),
      h('span', null, s.name),
      s.documents != null ? h('span', { class: 'muted count' }, formatNumber(s.documents)) : null));
  }
}

function renderFilterSummary() {
  const f = currentFilters();
  const parts = [];
  if (f.sources) parts.push(state.sources.filter((s) => f.sources.includes(s.id)).map((s) => s.name).join(', '));
  if (f.languages) parts.push(t(`lang.${f.languages[0]}`));
  if (f.updated_after) parts.push(`${t('filters.updatedAfter')} ${formatDate(f.updated_after)}`);
  els.filtersLabel.textContent = parts.length ? t('filters.active', { n: parts.length }) : t('filters');
  els.filtersBtn.classList.toggle('is-active', parts.length > 0);
  els.filterSummary.textContent = parts.join(' · ');
}

els.filtersBtn.addEventListener('click', () => {
  const open = els.filters.hidden;
  els.filters.hidden = !open;
  els.filtersBtn.setAttribute('aria-expanded', String(open));
});
els.fDate.addEventListener('change', renderFilterSummary);
els.fLang.addEventListener('change', renderFilterSummary);
els.filtersClear.addEventListener('click', () => {
  for (const i of els.sourceList.querySelectorAll('input')) i.checked = false;
  els.fDate.value = '';
  els.fLang.value = '';
  renderFilterSummary();
});

/* ---------- results ---------- */

function renderResults() {
  const r = state.results;
  els.results.replaceChildren();
  els.resultsIntro.hidden = !!r;
  els.resultsMeta.textContent = '';
  els.results.setAttribute('aria-busy', String(!!r?.loading));
  if (!r) return;
  if (r.loading) {
    for (let i = 0; i < 3; i++) els.results.append(h('li', { class: 'result skeleton', 'aria-hidden': 'true' }, h('div'), h('div'), h('div')));
    return;
  }
  if (r.error && !r.items?.length) {
    els.results.append(h('li', { class: 'result-error', role: 'alert' }, icon('alert'), t('results.error', { msg: r.error })));
    return;
  }
  const items = r.items || [];
  if (r.tookMs != null) {
    const ms = formatNumber(r.tookMs, 1);
    els.resultsMeta.textContent = items.length === 1 ? t('results.count1', { ms }) : t('results.count', { n: items.length, ms });
  }
  if (!items.length) {
    els.results.append(h('li', { class: 'muted results-empty' }, t('results.empty')));
    return;
  }
  for (const item of items) els.results.append(resultItem(item));
}

function resultItem(item) {
  const date = formatDate(item.updated_at);
  return h('li', { class: 'result' },
    h('div', { class: 'result-head' },
      sourceBadge(item.source),
      h('h3', { class: 'result-title' },
        h('button', {
          type: 'button', class: 'link-btn',
          onclick: (ev) => openDocument(item.document_id, item.chunk_id, { title: item.title, returnFocus: ev.currentTarget }),
        }, item.title || item.url || `#${item.document_id}`))),
    item.heading_path ? h('p', { class: 'result-path' }, item.heading_path) : null,
    h('p', { class: 'result-snippet' }, snippetNodes(item.snippet)),
    h('p', { class: 'result-meta' },
      h('span', null, item.source?.name || kindLabel(item.source)),
      date ? h('span', null, h('time', { datetime: item.updated_at }, date)) : null,
      item.language ? h('span', { class: 'lang-tag' }, item.language.toUpperCase()) : null));
}

async function runSearch(query, filters, signal, turn) {
  state.results = { loading: true };
  renderResults();
  try {
    const res = await api.search({ query, k: SEARCH_K, filters }, signal);
    turn.results = { items: res.results || [], tookMs: res.took_ms };
  } catch (e) {
    if (e.name === 'AbortError') return;
    // Fall back to the chat's sources when they arrive.
    turn.results = { items: turn.sources || [], error: errorMessage(e), fromChat: true };
  }
  if (state.run?.turn === turn || state.chat?.turns.at(-1) === turn) {
    state.results = turn.results;
    renderResults();
    const n = turn.results.items.length;
    if (!turn.results.error) announce(n === 1 ? t('results.count1', { ms: formatNumber(turn.results.tookMs ?? 0, 1) }) : t('results.count', { n, ms: formatNumber(turn.results.tookMs ?? 0, 1) }));
  }
}

/* ---------- answer rendering ---------- */

function citeButton(turn, n) {
  const src = citationTarget(turn, n);
  const title = src?.title || '';
  return h('button', {
    type: 'button', class: 'cite', dataset: { n: String(n) },
    'aria-label': t('answer.cite', { n, title }), title: title || null,
    onclick: (ev) => src && openDocument(src.document_id, src.chunk_id, { title, returnFocus: ev.currentTarget, range: src.range }),
  }, String(n));
}

function citationTarget(turn, n) {
  const c = (turn.citations || []).find((x) => Number(x.n) === n);
  const s = turn.sources?.[n - 1];
  if (c) return { document_id: c.document_id, chunk_id: c.chunk_id, title: c.title || s?.title, range: c.start != null ? [c.start, c.end] : null };
  if (s) return { document_id: s.document_id, chunk_id: s.chunk_id, title: s.title };
  return null;
}

function inlineNodes(text, turn) {
  const out = [];
  const max = Math.max(turn.sources?.length || 0, ...(turn.citations || []).map((c) => Number(c.n) || 0));
  for (const part of splitCitations(text, max)) {
    if (part.cite) { out.push(citeButton(turn, part.cite)); continue; }
    // **bold** and `code`; everything else is text.
    for (const seg of part.text.split(/(\*\*[^*\n]+\*\*|`[^`\n]+`)/)) {
      if (!seg) continue;
      if (seg.startsWith('**') && seg.endsWith('**') && seg.length > 4) out.push(h('strong', null, seg.slice(2, -2)));
      else if (seg.startsWith('`') && seg.endsWith('`') && seg.length > 2) out.push(h('code', null, seg.slice(1, -1)));
      else out.push(document.createTextNode(seg));
    }
  }
  return out;
}

function withBreaks(lines, turn) {
  const out = [];
  lines.forEach((line, i) => {
    if (i) out.push(h('br'));
    out.push(...inlineNodes(line, turn));
  });
  return out;
}

/** Minimal, safe Markdown-ish rendering: paragraphs, bullet/numbered lists, headings, bold, citations. */
function answerNodes(text, turn) {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  const out = [];
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (!lines.length) continue;
    const bullet = /^\s*[-*•]\s+/, numbered = /^\s*\d+[.)]\s+/;
    if (lines.every((l) => bullet.test(l)) || lines.every((l) => numbered.test(l))) {
      const ordered = numbered.test(lines[0]);
      out.push(h(ordered ? 'ol' : 'ul', null, lines.map((l) => h('li', null, inlineNodes(l.replace(ordered ? numbered : bullet, ''), turn)))));
    } else if (lines.length === 1 && /^#{1,4}\s/.test(lines[0])) {
      out.push(h('p', { class: 'answer-heading' }, inlineNodes(lines[0].replace(/^#+\s*/, ''), turn)));
    } else {
      out.push(h('p', null, withBreaks(lines, turn)));
    }
  }
  return out;
}

function turnView(turn, index) {
  const streaming = turn.status === 'searching' || turn.status === 'streaming';
  const isLast = state.chat?.turns[state.chat.turns.length - 1] === turn;
  const body = h('div', { class: 'answer-body', 'aria-live': isLast ? 'polite' : null, 'aria-busy': streaming ? 'true' : 'false' });
  if (turn.answer) body.append(...answerNodes(turn.answer, turn));
  else if (streaming) body.append(h('p', { class: 'thinking' }, h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), t(turn.status === 'searching' ? 'answer.thinking' : 'answer.writing')));
  else if (turn.status === 'done') body.append(h('p', { class: 'muted' }, t('answer.empty')));
  if (streaming && turn.answer) {
    // The caret goes at the end of the last paragraph or list item.
    let last = body.lastElementChild;
    if (last && /^(UL|OL)$/.test(last.tagName)) last = last.lastElementChild;
    (last || body).append(h('span', { class: 'caret', 'aria-hidden': 'true' }));
  }

  const notices = [];
  if (turn.mode === 'extractive' || turn.modelUnavailable) {
    notices.push(h('p', { class: 'notice', dataset: { kind: 'extractive' } }, icon('info'), t('answer.extractive')));
  }
  if (turn.notice && typeof turn.notice === 'string') notices.push(h('p', { class: 'notice' }, icon('info'), turn.notice));
  if (turn.error) notices.push(h('p', { class: 'notice notice-error', role: 'alert' }, icon('alert'), t('answer.error', { msg: turn.error })));
  if (turn.status === 'stopped') notices.push(h('p', { class: 'notice' }, t('answer.stopped')));

  const cited = new Set((turn.citations || []).map((c) => Number(c.n)));
  for (const part of splitCitations(turn.answer || '', turn.sources?.length || 0)) if (part.cite) cited.add(part.cite);
  const sourceList = turn.sources?.length
    ? h('div', { class: 'answer-sources' },
      h('h3', { class: 'answer-sources-title' }, t('answer.sources')),
      h('ol', { class: 'source-chips' }, turn.sources.map((s, i) => h('li', null,
        h('button', {
          type: 'button', class: `source-chip${cited.has(i + 1) ? ' is-cited' : ''}`,
          onclick: (ev) => {
            const target = citationTarget(turn, i + 1);
            openDocument(target.document_id, target.chunk_id, { title: target.title, returnFocus: ev.currentTarget, range: target.range });
          },
          title: [s.title, s.heading_path].filter(Boolean).join(' — ') || null,
        }, h('span', { class: 'chip-n' }, String(i + 1)), sourceBadge(s.source),
        h('span', { class: 'chip-title' }, s.title || s.url,
          s.heading_path ? h('span', { class: 'chip-heading' }, ` › ${s.heading_path.split(' > ').pop()}`) : null))))))
    : null;

  const timing = turn.timings?.total_ms != null && turn.status === 'done'
    ? h('p', { class: 'turn-meta' }, formatDuration(turn.timings.total_ms))
    : null;

  return h('article', { class: 'turn', dataset: { state: turn.status || 'done', index: String(index) } },
    h('div', { class: 'turn-q' }, h('span', { class: 'visually-hidden' }, `${t('answer.you')}: `), h('p', null, turn.q)),
    h('div', { class: 'turn-a' }, body, notices, sourceList, timing));
}

function welcomeView() {
  const examples = lang() === 'fr'
    ? ['Combien de jours de congés payés ai-je ?', 'Quelle est la procédure d’escalade d’astreinte ?']
    : ['How many days of paid leave do I get?', 'What is the on-call escalation process?'];
  return h('div', { class: 'welcome' },
    h('p', null, t('answer.welcome')),
    h('p', { class: 'muted' }, t('answer.examples')),
    h('ul', { class: 'examples' }, examples.map((ex) => h('li', null, h('button', {
      type: 'button', class: 'btn btn-chip', onclick: () => { els.q.value = ex; els.form.requestSubmit(); },
    }, ex)))));
}

function renderChat() {
  const turns = state.chat?.turns || [];
  els.chat.replaceChildren(...(turns.length ? turns.map(turnView) : [welcomeView()]));
}

let renderQueued = null;
function renderTurnSoon(turn) {
  if (renderQueued) return;
  renderQueued = requestAnimationFrame(() => {
    renderQueued = null;
    renderTurnNow(turn);
  });
}
function renderTurnNow(turn) {
  if (renderQueued) { cancelAnimationFrame(renderQueued); renderQueued = null; }
  const index = state.chat?.turns.indexOf(turn);
  if (index == null || index < 0) return;
  const old = els.chat.querySelector(`.turn[data-index="${index}"]`);
  const view = turnView(turn, index);
  if (!old) {
    // Only the newest turn is a live region.
    for (const b of els.chat.querySelectorAll('.answer-body[aria-live]')) b.removeAttribute('aria-live');
    els.chat.append(view);
    return;
  }
  // Patch in place so that the answer's live region element stays the same
  // and keyboard focus survives re-renders while streaming.
  const focusables = (root) => [...root.querySelectorAll('button, a[href]')];
  const focusIndex = old.contains(document.activeElement) ? focusables(old).indexOf(document.activeElement) : -1;
  old.dataset.state = view.dataset.state;
  const oldBody = old.querySelector('.answer-body');
  const newBody = view.querySelector('.answer-body');
  oldBody.replaceChildren(...newBody.childNodes);
  oldBody.setAttribute('aria-busy', newBody.getAttribute('aria-busy'));
  const oldA = old.querySelector('.turn-a');
  const rest = [...view.querySelector('.turn-a').childNodes].filter((n) => n !== newBody);
  oldA.replaceChildren(oldBody, ...rest);
  if (focusIndex >= 0) focusables(old)[focusIndex]?.focus();
}

function updatePlaceholder() {
  els.q.placeholder = t('search.placeholder');
}

/* ---------- asking ---------- */

function abortRun() {
  const run = state.run;
  if (!run) return;
  state.run = null;
  run.controller.abort();
  if (run.turn.status === 'searching' || run.turn.status === 'streaming') {
    run.turn.status = 'stopped';
    renderTurnNow(run.turn);
  }
  setBusy(false);
  saveChats();
}

function setBusy(busy) {
  els.stop.hidden = !busy;
  els.form.classList.toggle('is-busy', busy);
}

function historyFor(chat) {
  const hist = [];
  for (const turn of chat.turns) {
    if (!turn.answer || turn.error) continue;
    hist.push({ role: 'user', content: turn.q }, { role: 'assistant', content: turn.answer });
  }
  return hist.slice(-2 * MAX_HISTORY_TURNS);
}

async function ask(query) {
  abortRun();
  if (!state.chat) {
    state.chat = newChatObject(query);
    state.chats.push(state.chat);
    renderChat();
  }
  const chat = state.chat;
  const history = historyFor(chat);
  if (!chat.turns.length) els.chat.replaceChildren();
  const turn = { q: query, answer: '', sources: [], citations: [], status: 'searching', at: Date.now() };
  chat.turns.push(turn);
  chat.updatedAt = Date.now();
  const controller = new AbortController();
  state.run = { controller, turn };
  setBusy(true);
  renderTurnNow(turn);
  els.chat.lastElementChild?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  announce(t('answer.thinking'));

  const filters = currentFilters();
  const searchDone = runSearch(query, filters, controller.signal, turn);
  let finished = false;
  try {
    finished = await api.chat({ query, history, filters, k: CHAT_K }, {
      sources(d) {
        turn.sources = Array.isArray(d.results) ? d.results : [];
        turn.status = 'streaming';
        if (turn.results?.fromChat && state.run?.turn === turn) {
          turn.results.items = turn.sources;
          state.results = turn.results;
          renderResults();
        }
        renderTurnSoon(turn);
      },
      delta(d) {
        if (typeof d.text !== 'string') return;
        if (!turn.answer) announce(t('answer.writing'));
        turn.answer += d.text;
        turn.status = 'streaming';
        renderTurnSoon(turn);
      },
      citations(d) {
        turn.citations = Array.isArray(d.citations) ? d.citations : [];
        renderTurnSoon(turn);
      },
      done(d) {
        turn.status = 'done';
        turn.mode = d.mode || null;
        turn.notice = d.notice || null;
        turn.timings = d.timings || null;
        renderTurnNow(turn);
      },
      error(d) {
        turn.status = 'error';
        turn.error = d.message || d.code || 'error';
        if (/model|llm/i.test(String(d.code || '')) || d.mode === 'extractive') turn.modelUnavailable = true;
        renderTurnNow(turn);
      },
    }, controller.signal);
    if (!finished) {
      turn.status = 'error';
      turn.error = t('error.closed');
    }
  } catch (e) {
    if (e.name === 'AbortError') {
      if (turn.status === 'searching' || turn.status === 'streaming') turn.status = 'stopped';
    } else {
      turn.status = 'error';
      turn.error = errorMessage(e);
    }
  }
  if (state.run?.turn !== turn) return; // superseded by a newer question
  renderTurnNow(turn);
  state.run = null;
  setBusy(false);
  announce(turn.status === 'done' ? t('answer.done') : turn.error ? t('answer.error', { msg: turn.error }) : t('answer.stopped'));
  chat.updatedAt = Date.now();
  saveChats();
  await searchDone;
}

els.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const query = els.q.value.trim();
  if (!query) { els.q.focus(); return; }
  els.q.value = '';
  ask(query);
});
els.stop.addEventListener('click', () => {
  abortRun();
  announce(t('answer.stopped'));
  els.q.focus();
});

/* ---------- document view ---------- */

async function openDocument(id, chunk, { title, returnFocus, range } = {}) {
  if (id == null) return;
  state.docController?.abort();
  const controller = new AbortController();
  state.docController = controller;
  state.docReturnFocus = returnFocus || document.activeElement;
  els.docTitle.textContent = title || '';
  els.docSource.replaceChildren();
  els.docMeta.replaceChildren();
  els.docBody.replaceChildren(h('p', { class: 'muted' }, t('doc.loading')));
  els.docBody.setAttribute('aria-busy', 'true');
  if (!els.docDialog.open) els.docDialog.showModal();
  els.docClose.focus();
  let doc;
  try {
    doc = await api.getDocument(id, chunk, controller.signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    els.docBody.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert' }, icon('alert'), t('doc.error', { msg: errorMessage(e) })));
    els.docBody.removeAttribute('aria-busy');
    return;
  }
  if (state.docController !== controller) return;
  renderDocument(doc, range);
}

function renderDocument(doc, fallbackRange) {
  els.docTitle.textContent = doc.title || doc.url || `#${doc.id}`;
  els.docSource.replaceChildren(sourceBadge(doc.source), h('span', null, doc.source?.name || kindLabel(doc.source)));
  const meta = [];
  if (doc.heading_path) meta.push(h('span', null, doc.heading_path));
  if (doc.updated_at) meta.push(h('span', null, t('doc.updated', { date: formatDate(doc.updated_at) })));
  if (doc.language) meta.push(h('span', { class: 'lang-tag' }, doc.language.toUpperCase()));
  if (doc.url && /^https?:\/\//i.test(doc.url)) {
    meta.push(h('a', { href: doc.url, target: '_blank', rel: 'noopener noreferrer', class: 'ext-link' }, t('doc.openOriginal'), icon('external')));
  } else if (doc.url) {
    meta.push(h('span', { class: 'doc-url', title: doc.url }, doc.url));
  }
  els.docMeta.replaceChildren(...meta);

  const text = String(doc.text ?? '');
  const p = doc.passage;
  const range = p && p.start != null ? [p.start, p.end] : fallbackRange;
  const container = h('div', { class: 'doc-text', lang: doc.language || null });
  let mark = null;
  if (range && range[1] > range[0]) {
    const [i, j] = byteRangeToIndices(text, range[0], range[1]);
    mark = h('mark', { class: 'passage', id: 'passage', tabindex: '-1', 'aria-label': t('doc.passage') }, text.slice(i, j));
    container.append(text.slice(0, i), mark, text.slice(j));
  } else {
    container.append(text);
  }
  els.docBody.replaceChildren(container);
  els.docBody.removeAttribute('aria-busy');
  els.docBody.scrollTop = 0;
  if (mark) {
    requestAnimationFrame(() => {
      const bodyRect = els.docBody.getBoundingClientRect();
      const markRect = mark.getBoundingClientRect();
      els.docBody.scrollTop += markRect.top - bodyRect.top - Math.max(24, (bodyRect.height - markRect.height) / 3);
      mark.classList.add('flash');
    });
  }
}

els.docClose.addEventListener('click', () => els.docDialog.close());
els.docDialog.addEventListener('close', () => {
  state.docController?.abort();
  state.docController = null;
  const back = state.docReturnFocus;
  state.docReturnFocus = null;
  if (back?.isConnected) back.focus();
});
// Click on the backdrop closes the dialogs.
for (const dialog of [els.docDialog, els.historyDialog, els.adminDialog]) {
  dialog.addEventListener('click', (ev) => {
    if (ev.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
    if (!inside) dialog.close();
  });
}

/* ---------- admin: sources and their syncs ---------- */

const admin = { timer: null, controller: null, sources: [], editing: null, confirming: null };

function renderAdmin() {
  const sources = admin.sources;
  els.adminList.replaceChildren(...(sources.length ? sources.map(adminItem) : [h('li', { class: 'muted history-empty' }, t('admin.none'))]));
}

function adminWhen(iso) {
  return iso ? formatDate(iso, { dateStyle: 'medium', timeStyle: 'short' }) : t('admin.never');
}

function adminItem(s) {
  const st = s.status || {};
  const errors = st.errors || [];
  const connector = s.connector !== false && s.interval_min != null;
  const busy = s.syncing || s.queued;
  const next = !connector ? t('admin.byIndex')
    : busy ? t(s.syncing ? 'admin.syncing' : 'admin.queued')
    : st.next_run ? adminWhen(st.next_run)
    : s.interval_min > 0 ? t('admin.due') : t('admin.manual');
  const fact = (label, value, cls) => h('div', { class: `admin-fact ${cls || ''}` }, h('dt', null, label), h('dd', null, value));
  return h('li', { class: 'admin-item', dataset: { id: String(s.id), kind: s.kind } },
    h('div', { class: 'admin-head' },
      sourceBadge(s),
      h('span', { class: 'admin-name' }, s.name),
      h('span', { class: 'muted admin-kind' }, s.kind),
      connector ? h('button', {
        type: 'button', class: 'btn btn-chip admin-sync', disabled: busy || null,
        'aria-label': t('admin.syncNamed', { name: s.name }),
        onclick: () => syncNow(s),
      }, icon('refresh'), h('span', null, t(busy ? 'admin.syncing' : 'admin.sync'))) : null),
    h('dl', { class: 'admin-facts' },
      fact(t('admin.documents'), formatNumber(s.documents ?? 0), 'admin-documents'),
      fact(t('admin.lastSuccess'), connector ? adminWhen(st.last_success) : '—', 'admin-last-success'),
      fact(t('admin.nextRun'), next, 'admin-next-run'),
      fact(t('admin.seen'), connector && st.last_attempt ? formatNumber(st.documents_seen ?? 0) : '—', 'admin-seen')),
    errors.length ? h('ul', { class: 'admin-errors', 'aria-label': t('admin.errors', { n: errors.length }) },
      errors.slice(0, 5).map((e) => h('li', null, icon('alert'), h('span', null, e))),
      errors.length > 5 ? h('li', { class: 'muted' }, t('admin.moreErrors', { n: errors.length - 5 })) : null) : null,
    state.admin ? adminActions(s, connector) : null,
    state.admin && admin.editing === s.id ? adminEditPanel(s) : null,
    state.admin && admin.confirming === s.id ? adminConfirmPanel(s) : null);
}

/* Admin actions: edit (interval, credential) and remove with a confirmation. */
const CREDENTIAL_KINDS = new Set(['slack', 'confluence', 'web']);  // optional for web (a site behind a login)

function adminActions(s, connector) {
  return h('div', { class: 'admin-item-actions' },
    connector ? h('button', {
      type: 'button', class: 'btn btn-chip admin-edit-btn', 'aria-expanded': String(admin.editing === s.id),
      'aria-label': t('admin.editNamed', { name: s.name }),
      onclick: () => { admin.editing = admin.editing === s.id ? null : s.id; admin.confirming = null; renderAdmin(); focusIn(s.id, '.admin-edit input'); },
    }, icon('sliders'), h('span', null, t('admin.edit'))) : null,
    h('button', {
      type: 'button', class: 'btn btn-chip admin-remove-btn', 'aria-label': t('admin.removeNamed', { name: s.name }),
      onclick: () => { admin.confirming = s.id; admin.editing = null; renderAdmin(); focusIn(s.id, '.admin-confirm-cancel'); },
    }, icon('trash'), h('span', null, t('admin.remove'))));
}

function focusIn(id, sel) {
  els.adminList.querySelector(`.admin-item[data-id="${id}"] ${sel}`)?.focus();
}

function field(label, input, hint) {
  return h('label', { class: 'form-field' }, h('span', null, label), input, hint ? h('span', { class: 'hint' }, hint) : null);
}

function adminEditPanel(s) {
  const own = s.own_interval === true;
  const interval = h('input', {
    type: 'number', min: '0', max: '10080', step: 'any', class: 'admin-edit-interval', 'data-field': 'interval_min',
    value: own && s.interval_min != null ? String(s.interval_min) : '', placeholder: t('admin.intervalDefault'),
  });
  const cred = CREDENTIAL_KINDS.has(s.kind)
    ? h('input', { type: 'password', autocomplete: 'off', class: 'admin-edit-credential', 'data-field': 'credential', placeholder: t('admin.credentialKeep') })
    : null;
  const error = h('p', { id: `admin-edit-error-${s.id}`, class: 'admin-error admin-edit-error', role: 'alert', hidden: true });
  const form = h('form', {
    class: 'admin-edit', novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const body = {};
      const iv = interval.value.trim();
      if (iv !== (own && s.interval_min != null ? String(s.interval_min) : '')) body.interval_min = iv === '' ? null : Number(iv);
      if (cred && cred.value) body.credential = cred.value;
      if (!Object.keys(body).length) { admin.editing = null; renderAdmin(); return; }
      try {
        await api.updateSource(s.id, body);
        if (cred) cred.value = '';
        admin.editing = null;
        announce(t('admin.savedNamed', { name: s.name }));
        await refreshAdmin();
        focusIn(s.id, '.admin-edit-btn');
      } catch (e) {
        showFieldError(form, error, e);
      }
    },
  },
  h('div', { class: 'admin-edit-fields' },
    field(t('admin.interval'), interval, t('admin.intervalHint')),
    cred ? field(t('admin.credentialReplace'), cred,
      h('span', { class: 'admin-credential' }, t(s.credential_set ? 'admin.credentialSet' : 'admin.credentialNotSet'))) : null),
  error,
  h('div', { class: 'source-form-actions' },
    h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => { admin.editing = null; renderAdmin(); focusIn(s.id, '.admin-edit-btn'); } }, t('admin.cancel')),
    h('button', { type: 'submit', class: 'btn btn-primary admin-edit-save' }, t('admin.save'))));
  return form;
}

function adminConfirmPanel(s) {
  const error = h('p', { class: 'admin-error', role: 'alert', hidden: true });
  return h('div', { class: 'admin-confirm', role: 'group', 'aria-label': t('admin.removeNamed', { name: s.name }) },
    h('p', null, t('admin.confirmRemove', { name: s.name, n: formatNumber(s.documents ?? 0) })),
    error,
    h('div', { class: 'source-form-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost admin-confirm-cancel', onclick: () => { admin.confirming = null; renderAdmin(); focusIn(s.id, '.admin-remove-btn'); } }, t('admin.cancel')),
      h('button', {
        type: 'button', class: 'btn btn-danger admin-confirm-remove',
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          try {
            await api.removeSource(s.id);
            admin.confirming = null;
            announce(t('admin.removedNamed', { name: s.name }));
            await refreshAdmin();
            reloadSources();
            els.adminClose.focus();
          } catch (e) {
            ev.currentTarget.disabled = false;
            error.textContent = errorMessage(e);
            error.hidden = false;
          }
        },
      }, t('admin.removeConfirm'))));
}

// A server error "config.url: ..." marks that field of `form` invalid.
function showFieldError(form, errorEl, e) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  errorEl.textContent = errorMessage(e);
  errorEl.hidden = false;
  const name = /^([\w.]+):/.exec(e?.message || '')?.[1];
  const input = name && form.querySelector(`[data-field="${name}"]`);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', errorEl.id || '');
    input.focus();
  }
}

/* The "add a source" form: the kind's own fields, as the API takes them. */
const SOURCE_KINDS = ['slack', 'confluence', 'web', 'slack-export', 'confluence-export'];
const KIND_FIELDS = {
  slack: [{ key: 'api_url', type: 'url', placeholder: 'https://slack.com/api' }, { key: 'requests_per_minute', type: 'number', placeholder: '50' },
    { key: 'rescan_days', type: 'number', placeholder: '7' }],
  confluence: [{ key: 'base_url', type: 'url', placeholder: 'https://acme.atlassian.net/wiki' }, { key: 'user', type: 'text' },
    { key: 'spaces', type: 'list', placeholder: 'ENG, OPS' }, { key: 'requests_per_minute', type: 'number', placeholder: '50' }],
  web: [{ key: 'url', type: 'url', placeholder: 'https://intranet.example.com/' }, { key: 'sitemaps', type: 'lines' }, { key: 'feeds', type: 'lines' },
    { key: 'max_pages', type: 'number', placeholder: '1000' }, { key: 'acl', type: 'list', placeholder: 'public' }, { key: 'requests_per_minute', type: 'number', placeholder: '50' },
    { key: 'auth', type: 'select', options: ['', 'basic', 'header'] }],
  'slack-export': [{ key: 'path', type: 'text' }, { key: 'workspace', type: 'text' }],
  'confluence-export': [{ key: 'path', type: 'text' }, { key: 'space', type: 'text' }, { key: 'acl', type: 'list' }],
};

function fieldInput(f) {
  const attrs = { 'data-field': `config.${f.key}`, name: f.key, placeholder: f.placeholder || null, autocomplete: 'off' };
  if (f.type === 'lines') return h('textarea', { ...attrs, rows: '2' });
  if (f.type === 'select') return h('select', attrs, f.options.map((o) => h('option', { value: o }, t(`admin.option.${f.key}.${o || 'default'}`))));
  return h('input', { ...attrs, type: f.type === 'list' ? 'text' : f.type, step: f.type === 'number' ? 'any' : null });
}

function renderSourceForm(kind) {
  const prev = Object.fromEntries([...els.sourceFormFields.querySelectorAll('[data-field]')].map((i) => [i.dataset.field, i.value]));
  const kindSel = h('select', { 'data-field': 'kind', name: 'kind', onchange: (ev) => renderSourceForm(ev.target.value) },
    SOURCE_KINDS.map((k) => h('option', { value: k, selected: k === kind || null }, `${t(`admin.kind.${k}`)} (${k})`)));
  const common = [
    field(t('admin.field.kind'), kindSel),
    field(t('admin.field.name'), h('input', { 'data-field': 'name', name: 'name', autocomplete: 'off', value: prev.name || '' }), t('admin.hint.name')),
  ];
  const own = KIND_FIELDS[kind].map((f) => field(t(`admin.field.${f.key}`), fieldInput(f), f.type === 'list' ? t('admin.hint.list') : f.type === 'lines' ? t('admin.hint.lines') : null));
  const cred = CREDENTIAL_KINDS.has(kind)
    ? [field(t('admin.field.credential'), h('input', { type: 'password', 'data-field': 'credential', name: 'credential', autocomplete: 'off' }), t(`admin.hint.credential.${kind}`))]
    : [];
  const interval = field(t('admin.interval'), h('input', { type: 'number', min: '0', max: '10080', step: 'any', 'data-field': 'interval_min', name: 'interval_min', placeholder: t('admin.intervalDefault'), value: prev.interval_min || '' }), t('admin.intervalHint'));
  els.sourceFormFields.replaceChildren(...common, ...own, ...cred, interval);
  els.sourceForm.dataset.kind = kind;
}

function sourceFormBody() {
  const kind = els.sourceForm.dataset.kind;
  const body = { kind, name: '', config: {} };
  for (const input of els.sourceFormFields.querySelectorAll('[data-field]')) {
    const key = input.dataset.field;
    const v = input.value.trim();
    if (key === 'kind') continue;
    if (key === 'name') { body.name = v; continue; }
    if (key === 'credential') { if (input.value) body.credential = input.value; continue; }
    if (key === 'interval_min') { if (v !== '') body.interval_min = Number(v); continue; }
    const f = KIND_FIELDS[kind].find((x) => `config.${x.key}` === key);
    if (!f || v === '') continue;
    body.config[f.key] = f.type === 'number' ? Number(v)
      : f.type === 'list' ? v.split(/[\s,]+/).filter(Boolean)
      : f.type === 'lines' ? v.split(/\s+/).filter(Boolean) : v;
  }
  return body;
}

function openSourceForm(open) {
  els.sourceForm.hidden = !open;
  els.adminAdd.setAttribute('aria-expanded', String(open));
  els.sourceFormError.hidden = true;
  if (open) {
    renderSourceForm(els.sourceForm.dataset.kind || 'slack');
    els.sourceFormFields.querySelector('select')?.focus();
  }
}

els.adminAdd.addEventListener('click', () => openSourceForm(els.sourceForm.hidden));
els.sourceFormCancel.addEventListener('click', () => { openSourceForm(false); els.adminAdd.focus(); });
els.sourceForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = sourceFormBody();
  els.sourceFormSubmit.disabled = true;
  try {
    const added = await api.addSource(body);
    els.sourceFormFields.replaceChildren();
    openSourceForm(false);
    announce(t('admin.addedNamed', { name: added.name }));
    await refreshAdmin();
    reloadSources();
    focusIn(added.id, '.admin-edit-btn');
  } catch (e) {
    showFieldError(els.sourceForm, els.sourceFormError, e);
  } finally {
    els.sourceFormSubmit.disabled = false;
  }
});

// The search filters' source list follows additions and removals.
async function reloadSources() {
  try {
    state.sources = (await api.getSources()).sources || [];
    renderSourcesFilter();
  } catch { /* the filter keeps its list */ }
}

async function refreshAdmin() {
  admin.controller?.abort();
  const controller = new AbortController();
  admin.controller = controller;
  try {
    const { sources = [] } = await api.getSources(controller.signal);
    if (controller.signal.aborted) return;
    els.adminAddBar.hidden = !state.admin;
    admin.sources = sources;
    if (!sources.some((x) => x.id === admin.editing)) admin.editing = null;
    if (!sources.some((x) => x.id === admin.confirming)) admin.confirming = null;
    // An open edit form or confirmation is not redrawn under the user's hands.
    if (admin.editing == null && admin.confirming == null) {
      // Keep keyboard focus on the same source's button across re-renders.
      const focused = document.activeElement;
      const focusedId = focused?.closest?.('.admin-item')?.dataset.id;
      const focusedCls = ['admin-sync', 'admin-edit-btn', 'admin-remove-btn'].find((c) => focused?.classList?.contains(c)) || 'admin-sync';
      renderAdmin();
      if (focusedId) (els.adminList.querySelector(`.admin-item[data-id="${focusedId}"] .${focusedCls}`) || els.adminClose).focus();
    }
    els.adminError.hidden = true;
    els.adminList.dataset.loaded = 'true';
    clearTimeout(admin.timer);
    // Poll faster while a sync runs, slowly otherwise.
    const busy = sources.some((s) => s.syncing || s.queued);
    if (els.adminDialog.open) admin.timer = setTimeout(refreshAdmin, busy ? 1000 : 5000);
  } catch (e) {
    if (e.name === 'AbortError') return;
    els.adminError.textContent = errorMessage(e);
    els.adminError.hidden = false;
  }
}

async function syncNow(source) {
  try {
    await api.syncSource(source.id);
    announce(t('admin.queuedNamed', { name: source.name }));
  } catch (e) {
    els.adminError.textContent = errorMessage(e);
    els.adminError.hidden = false;
  }
  refreshAdmin();
}

function openAdmin() {
  if (!els.adminDialog.open) els.adminDialog.showModal();
  if (location.hash !== '#/admin') history.replaceState(null, '', '#/admin');
  els.adminClose.focus();
  refreshAdmin();
}

els.adminBtn.addEventListener('click', openAdmin);
els.adminClose.addEventListener('click', () => els.adminDialog.close());
els.adminDialog.addEventListener('close', () => {
  admin.editing = null;
  admin.confirming = null;
  openSourceForm(false);
  clearTimeout(admin.timer);
  admin.controller?.abort();
  if (location.hash === '#/admin') history.replaceState(null, '', location.pathname + location.search);
  if (document.activeElement === document.body || !document.activeElement) els.adminBtn.focus();
});
window.addEventListener('hashchange', () => { if (location.hash === '#/admin') openAdmin(); });

/* ---------- keyboard ---------- */

document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !isEditable(ev.target) && !document.querySelector('dialog[open]')) {
    ev.preventDefault();
    els.q.focus();
    els.q.select();
  }
});

/* ---------- layout ---------- */

// The results column sticks below the (sticky) search area on wide screens.
const searchWrap = document.querySelector('.search-wrap');
new ResizeObserver(() => {
  document.documentElement.style.setProperty('--sticky-top', `${Math.ceil(searchWrap.getBoundingClientRect().height)}px`);
}).observe(searchWrap);

/* ---------- start ---------- */

async function init() {
  switchLang(detectLang(), false);
  const [me, sources] = await Promise.allSettled([api.getMe(), api.getSources()]);
  if (me.status === 'fulfilled') {
    state.user = me.value.user || 'anonymous';
    state.mode = me.value.mode || null;
    state.admin = me.value.admin === true;
    els.banner.hidden = state.mode !== 'single-user';
    if (state.mode !== 'single-user' && state.user) {
      els.user.textContent = state.user;
      els.user.title = state.user;
      els.user.hidden = false;
    }
  } else {
    els.appError.textContent = errorMessage(me.reason);
    els.appError.hidden = false;
  }
  if (sources.status === 'fulfilled') {
    state.sources = sources.value.sources || [];
    renderSourcesFilter();
  }
  // Keep a chat started before /api/me answered.
  state.chats = [...loadChats().filter((c) => !state.chats.some((x) => x.id === c.id)), ...state.chats];
  document.documentElement.classList.add('ready');
  if (location.hash === '#/admin') openAdmin();
}

applyTheme();
renderChat();
init();
