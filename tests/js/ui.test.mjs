// Browser test of the Savoir web UI (web/) with headless Chromium.
//
//   cd tests/js && npm ci && node --test
//
// SAVOIR_URL       base URL of a running server (default: start mock-server.mjs on a free port)
// SAVOIR_TEST_OUT  directory for screenshots (default: a new temp dir); paths are printed
// SAVOIR_CHROMIUM  browser binary (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const QUESTION_EN = 'How many days of congés payés do I acquire?';
const FOLLOW_UP = 'And for part-time employees (temps partiel)?';
const QUESTION_FR = 'Combien de jours de congés payés ?';

let base, mock, browser, outDir;
const shots = [];

before(async () => {
  if (process.env.SAVOIR_URL) {
    base = process.env.SAVOIR_URL.replace(/\/+$/, '');
  } else {
    const m = await import('./mock-server.mjs');
    const started = await m.start(0);
    mock = { ...started, fixtures: m.fixtures };
    base = started.url;
  }
  outDir = process.env.SAVOIR_TEST_OUT || (await fs.mkdtemp(path.join(os.tmpdir(), 'savoir-ui-')));
  await fs.mkdir(outDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.SAVOIR_CHROMIUM || '/usr/bin/chromium',
    args: ['--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (mock ? mock.server.close(r) : r()));
  if (shots.length) console.log(`Screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`);
});

async function shot(page, name, opts = {}) {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  shots.push(file);
  console.log(`screenshot: ${file}`);
  return file;
}

async function newPage(contextOpts) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US', colorScheme: 'light', ...contextOpts });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(new Error(m.text())); });
  const chatBodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/chat') && r.method() === 'POST') chatBodies.push(JSON.parse(r.postData() || '{}')); });
  await page.goto(`${base}/`);
  await page.waitForSelector('html.ready');
  return { context, page, errors, chatBodies };
}

/** Records every distinct length of the last answer's text while it streams. */
async function watchAnswer(page) {
  await page.evaluate(() => {
    window.__answerLengths = [];
    const chat = document.querySelector('#chat');
    new MutationObserver(() => {
      const body = chat.querySelector('.turn:last-child .answer-body');
      const turn = chat.querySelector('.turn:last-child');
      if (!body || !turn || turn.dataset.state !== 'streaming') return;
      const n = body.textContent.length;
      const l = window.__answerLengths;
      if (l[l.length - 1] !== n) l.push(n);
    }).observe(chat, { childList: true, subtree: true, characterData: true });
  });
}

async function waitTurns(page, n, state = 'done') {
  await page.waitForFunction(([n, state]) => {
    const turns = document.querySelectorAll('#chat .turn');
    return turns.length === n && turns[n - 1].dataset.state === state;
  }, [n, state], { timeout: 15000 });
}

async function expectedPassage(page, n) {
  // The passage the citation points to, as the document endpoint defines it.
  return page.evaluate(async (n) => {
    const cite = document.querySelector(`#chat .turn:last-child .cite[data-n="${n}"]`);
    return cite ? cite.getAttribute('aria-label') : null;
  }, n);
}

test('ask, stream, cite, document view, follow-up, dark mode, French, history', async () => {
  const { context, page, errors, chatBodies } = await newPage();
  const me = await (await page.request.get(`${base}/api/me`)).json();
  assert.equal(await page.isVisible('#banner'), me.mode === 'single-user');
  if (me.mode === 'single-user') assert.match(await page.textContent('#banner'), /Single-user mode — no sign-in/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');

  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
  console.log(`first contentful paint: ${Math.round(fcp)} ms`);
  assert.ok(fcp < 1500, `first paint took ${fcp} ms`);
  await shot(page, '00-start');
  await watchAnswer(page);
  await page.fill('#q', QUESTION_EN);
  await page.click('#ask');

  await page.waitForSelector('#results .result:not(.skeleton)', { timeout: 10000 });
  const nResults = await page.locator('#results .result').count();
  assert.ok(nResults > 0, 'results are listed');
  assert.ok(await page.locator('#results .result mark').count() > 0, 'snippet terms are highlighted');
  assert.ok(await page.locator('#results .result .kind use').count() === nResults, 'each result has a source icon');

  // The answer has streamed past 40 characters: seen by watchAnswer's
  // MutationObserver, which runs on every change, where polling the page for
  // the 'streaming' state can miss a short answer's window on a loaded machine.
  await page.waitForFunction(() => (window.__answerLengths || []).some((n) => n > 40), null, { timeout: 15000 });
  if (await page.evaluate(() => document.querySelector('#chat .turn')?.dataset.state === 'streaming')) {
    await shot(page, '01-streaming');
  }
  await waitTurns(page, 1);
  const lengths = await page.evaluate(() => window.__answerLengths);
  assert.ok(lengths.filter((n) => n > 0).length >= 2, `answer streamed in several steps (lengths seen: ${lengths.join(',')})`);
  const answer = await page.textContent('#chat .turn .answer-body');
  assert.ok(answer.trim().length > 20, 'answer text shown');
  const cites = page.locator('#chat .turn .answer-body .cite');
  assert.ok(await cites.count() > 0, 'answer has clickable citations');
  if (mock) assert.ok(await page.isVisible('#chat .notice[data-kind="extractive"]'), 'extractive notice shown');
  await shot(page, '01-answer-done');

  // Citation [1] opens the document at the cited passage.
  const cite1 = page.locator('#chat .turn .answer-body .cite[data-n="1"]').first();
  await cite1.click();
  await page.waitForSelector('#doc-dialog[open] #doc-body mark.passage', { timeout: 5000 });
  const passage = await page.textContent('#doc-body mark.passage');
  assert.ok(passage.trim().length > 10, 'a passage is highlighted');
  if (mock) {
    const c = mock.fixtures.CHUNKS.find((x) => x.body === passage);
    assert.ok(c, `highlighted passage is exactly one chunk (got: ${passage.slice(0, 80)}…)`);
  }
  await page.waitForTimeout(150);
  const inView = await page.evaluate(() => {
    const body = document.querySelector('#doc-body').getBoundingClientRect();
    const m = document.querySelector('#doc-body mark.passage').getBoundingClientRect();
    return m.top >= body.top - 1 && m.top < body.bottom;
  });
  assert.ok(inView, 'the passage is scrolled into view');
  await shot(page, '02-document');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#doc-dialog', { state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('cite')), true, 'focus returns to the citation');

  // Follow-up question in the same chat sends the history.
  await watchAnswer(page);
  await page.fill('#q', FOLLOW_UP);
  await page.press('#q', 'Enter');
  await waitTurns(page, 2);
  const last = chatBodies[chatBodies.length - 1];
  assert.equal(last.query, FOLLOW_UP);
  assert.deepEqual(last.history.map((m) => m.role), ['user', 'assistant']);
  assert.equal(last.history[0].content, QUESTION_EN);
  assert.ok(last.history[1].content.length > 20);

  // Dark mode.
  await page.click('#theme-btn');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.match(bg, /rgb\((1\d|2\d|3\d), /, `dark background (${bg})`);
  await shot(page, '03-dark');

  // French, remembered across reloads together with the theme.
  await page.selectOption('#lang-select', 'fr');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal((await page.textContent('#ask')).trim(), 'Demander');
  if (me.mode === 'single-user') assert.match(await page.textContent('#banner'), /Mode mono-utilisateur/);
  if (mock) assert.match(await page.textContent('#chat .notice[data-kind="extractive"]'), /Réponse extractive/);
  await shot(page, '04-dark-french');

  await page.reload();
  await page.waitForSelector('html.ready');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  await page.click('#history-btn');
  await page.waitForSelector('#history-dialog[open] .history-open');
  assert.match(await page.textContent('#history-dialog .history-open'), /How many days/);
  await shot(page, '05-history');
  await page.click('#history-dialog .history-open');
  await waitTurns(page, 2);
  assert.ok(await page.locator('#results .result').count() > 0, 'results restored with the chat');
  await page.click('#new-chat');
  assert.equal(await page.locator('#chat .turn').count(), 0);
  assert.ok(await page.isVisible('#chat .welcome'));
  // Back to light for the other tests' sake (storage is per context anyway).
  assert.deepEqual(errors, []);
  await context.close();
});

test('keyboard only, phone layout, French from the browser language', async () => {
  const { context, page, errors } = await newPage({ viewport: { width: 390, height: 844 }, locale: 'fr-FR', deviceScaleFactor: 2 });
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  const cols = await page.evaluate(() => getComputedStyle(document.querySelector('.layout')).gridTemplateColumns.split(' ').length);
  assert.equal(cols, 1, 'single column on a phone');

  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q', '/ focuses the search box');
  await page.keyboard.type(QUESTION_FR);
  await page.keyboard.press('Enter');
  await waitTurns(page, 1);
  await page.waitForSelector('#results .result:not(.skeleton)');

  // Tab from the search box to the first citation; every stop has a visible focus ring.
  let found = false;
  for (let i = 0; i < 60 && !found; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      const cs = getComputedStyle(el);
      return { cite: el.classList.contains('cite'), n: el.dataset?.n, ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0, tag: el.tagName, id: el.id };
    });
    assert.ok(f.ring || f.tag === 'INPUT' || f.tag === 'SELECT', `visible focus ring on ${f.tag}#${f.id}`);
    found = f.cite && f.n === '1';
  }
  assert.ok(found, 'citation [1] is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#doc-dialog[open] #doc-body mark.passage');
  await page.waitForTimeout(150);
  await shot(page, '06-phone-document');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#doc-dialog', { state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.n), '1', 'focus back on the citation');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '07-phone');
  await shot(page, '07-phone-full', { fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('results show when the answer fails; Stop; escaping', { skip: !!process.env.SAVOIR_URL && 'mock-only triggers' }, async () => {
  const { context, page, errors } = await newPage();
  await page.fill('#q', 'congés fail');
  await page.press('#q', 'Enter');
  await waitTurns(page, 1, 'error');
  assert.ok(await page.locator('#results .result').count() > 0, 'results still shown');
  assert.ok(await page.isVisible('#chat .notice-error'));
  await shot(page, '08-answer-error');

  // Stop while streaming.
  await page.fill('#q', 'on-call escalation');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelector('#chat .turn:last-child .answer-body')?.textContent.length > 5 && document.querySelector('#chat .turn:last-child').dataset.state === 'streaming');
  assert.ok(await page.isVisible('#stop'));
  await page.click('#stop');
  await waitTurns(page, 2, 'stopped');
  assert.ok(await page.isHidden('#stop'));

  // A new question aborts the previous stream.
  await page.fill('#q', 'remote work equipment');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelector('#chat .turn:last-child')?.dataset.state === 'streaming');
  await page.fill('#q', 'paid leave notes ampersands');
  await page.press('#q', 'Enter');
  await waitTurns(page, 4);
  assert.equal(await page.getAttribute('#chat .turn:nth-child(3)', 'data-state'), 'stopped');

  // Markup in titles/snippets is shown as text, never interpreted.
  await page.waitForSelector('#results .result:not(.skeleton)');
  const titles = await page.locator('#results .result-title').allTextContents();
  assert.ok(titles.some((t) => t.includes('<img src=x')), 'HTML in a title is shown as text');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('#results img, #chat img').count(), 0);
  await shot(page, '09-escaping');

  // Filters are sent with the request.
  await page.click('#filters-btn');
  await page.check('#f-src-3');
  await page.selectOption('#f-lang', 'en');
  await page.fill('#f-date', '2026-01-01');
  const req = page.waitForRequest((r) => r.url().endsWith('/api/search'));
  await page.fill('#q', 'escalation');
  await page.press('#q', 'Enter');
  const body = JSON.parse((await req).postData());
  assert.deepEqual(body.filters, { sources: [3], languages: ['en'], updated_after: '2026-01-01' });
  await waitTurns(page, 5);
  await shot(page, '10-filters');
  assert.deepEqual(errors, []);
  await context.close();
});

test('admin: sources with their sync status, sync now, #/admin, keyboard, French', async () => {
  const { context, page, errors } = await newPage();
  const { sources } = await (await page.request.get(`${base}/api/sources`)).json();
  assert.ok(sources.length > 0, 'the server has sources');
  await page.focus('#admin-btn');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#admin-dialog[open] #admin-list[data-loaded="true"]');
  assert.equal(await page.evaluate(() => location.hash), '#/admin');
  const names = await page.locator('#admin-list .admin-name').allTextContents();
  assert.deepEqual(names, sources.map((s) => s.name), 'every source is listed');
  const demo = sources.find((s) => s.kind === 'files');
  assert.ok(demo && names.includes(demo.name), 'the demo (files) source is listed');
  const first = page.locator('#admin-list .admin-item').first();
  assert.equal(await first.locator('.kind use').count(), 1, 'with its kind icon');
  assert.equal(await first.locator('.admin-documents dd').textContent(), new Intl.NumberFormat('en').format(sources[0].documents));
  for (const label of ['Documents', 'Last success', 'Next run']) assert.ok((await page.textContent('#admin-list')).includes(label));
  await shot(page, '11-admin');

  // "Sync now" on each connector source POSTs and the list refreshes.
  const connectors = sources.filter((s) => s.connector);
  for (const s of connectors) {
    const posted = page.waitForResponse((r) => r.url().endsWith(`/api/sources/${s.id}/sync`) && r.request().method() === 'POST');
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/sources') && r.request().method() === 'GET');
    await page.click(`#admin-list .admin-item[data-id="${s.id}"] .admin-sync`);
    assert.equal((await posted).status(), 202);
    await refreshed;
  }
  // Files sources are indexed by `savoir index`: no button.
  for (const s of sources.filter((x) => !x.connector))
    assert.equal(await page.locator(`#admin-list .admin-item[data-id="${s.id}"] .admin-sync`).count(), 0);
  if (sources.some((s) => s.status?.errors?.length)) assert.ok(await page.locator('#admin-list .admin-errors li').count() > 0, 'errors are shown');

  // Escape closes it, the hash goes and focus returns to the button.
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#admin-dialog'), false);
  // The dialog's close event comes in a task after the key press.
  await page.waitForFunction(() => location.hash === '' && document.activeElement?.id === 'admin-btn', null, { timeout: 5000 });

  // The #/admin route opens it directly, in French too.
  const fr = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'fr-FR', colorScheme: 'dark' });
  const pfr = await fr.newPage();
  await pfr.goto(`${base}/#/admin`);
  await pfr.waitForSelector('#admin-dialog[open] #admin-list[data-loaded="true"]');
  assert.match(await pfr.textContent('#admin-list'), /Dernier succès/);
  await shot(pfr, '12-admin-fr-dark');
  await fr.close();
  assert.deepEqual(errors, []);
  await context.close();
});
