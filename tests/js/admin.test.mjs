// Browser test of the admin page's source management (web/app.js "admin")
// against a real `savoir serve`: add a source through the form (a refused one
// first, with the faulty field marked), sync it, edit its interval, replace
// its credential, remove it after a confirmation. Run by
// tests/e2e/sources_api.sh, which starts the server and a fake Slack:
//
// SAVOIR_URL               the server (with a secret key configured)
// SAVOIR_FAKE_SLACK        the fake Slack Web API base URL (tests/js/fake-slack.mjs)
// SAVOIR_FAKE_SLACK_TOKEN  the token it accepts
// SAVOIR_ADMIN_TEST=1      (it changes the server's sources: never on its own)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const skip = !(process.env.SAVOIR_ADMIN_TEST && process.env.SAVOIR_URL && process.env.SAVOIR_FAKE_SLACK)
  && 'needs SAVOIR_ADMIN_TEST, SAVOIR_URL and SAVOIR_FAKE_SLACK (run tests/e2e/sources_api.sh)';
const base = (process.env.SAVOIR_URL || '').replace(/\/+$/, '');
const TOKEN = process.env.SAVOIR_FAKE_SLACK_TOKEN || '';
let browser, outDir;

before(async () => {
  if (skip) return;
  outDir = process.env.SAVOIR_TEST_OUT || (await fs.mkdtemp(path.join(os.tmpdir(), 'savoir-admin-')));
  await fs.mkdir(outDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.SAVOIR_CHROMIUM || '/usr/bin/chromium',
    args: ['--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

async function shot(page, name) {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot: ${file}`);
}

const apiSources = async () => (await (await fetch(`${base}/api/sources`)).json()).sources;

test('admin: add (refused, then accepted), sync, edit interval, replace credential, remove', { skip }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', colorScheme: 'light' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const bodies = [];
  page.on('response', async (r) => { if (r.url().includes('/api/sources')) bodies.push(await r.text().catch(() => '')); });
  await page.goto(`${base}/#/admin`);
  await page.waitForSelector('#admin-dialog[open] #admin-list[data-loaded="true"]');
  const countBefore = (await apiSources()).length;

  // The form: kind first, each kind with its own fields.
  assert.equal(await page.isVisible('#admin-add'), true, 'an admin sees "Add a source"');
  await page.click('#admin-add');
  await page.waitForSelector('#source-form:not([hidden])');
  assert.equal(await page.getAttribute('#admin-add', 'aria-expanded'), 'true');
  await page.selectOption('#source-form [data-field="kind"]', 'web');
  assert.equal(await page.locator('#source-form [data-field="credential"]').count(), 1, 'a web source takes an optional credential');
  assert.equal(await page.inputValue('#source-form [data-field="config.auth"]'), '', 'sent as a bearer token unless said otherwise');
  await page.fill('#source-form [data-field="name"]', 'intranet');
  await page.fill('#source-form [data-field="config.url"]', 'ftp://intranet.example.com/');
  await page.click('#source-form-submit');
  await page.waitForSelector('#source-form-error:not([hidden])');
  assert.match(await page.textContent('#source-form-error'), /^config\.url: 'ftp:\/\/intranet\.example\.com\/' is not an http\(s\) URL/);
  assert.equal(await page.getAttribute('#source-form [data-field="config.url"]', 'aria-invalid'), 'true', 'the faulty field is marked');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.field), 'config.url', 'and focused');
  assert.equal((await apiSources()).length, countBefore, 'nothing stored');
  await shot(page, 'admin-01-refused');

  // Slack: the name is kept across the kind change; a missing token is refused.
  await page.selectOption('#source-form [data-field="kind"]', 'slack');
  assert.equal(await page.inputValue('#source-form [data-field="name"]'), 'intranet');
  await page.fill('#source-form [data-field="name"]', 'browserslack');
  await page.fill('#source-form [data-field="config.api_url"]', process.env.SAVOIR_FAKE_SLACK);
  await page.fill('#source-form [data-field="config.requests_per_minute"]', '6000');
  await page.fill('#source-form [data-field="interval_min"]', '0');
  await page.click('#source-form-submit');
  await page.waitForFunction(() => /^credential: /.test(document.querySelector('#source-form-error')?.textContent || ''));
  assert.equal(await page.getAttribute('#source-form [data-field="credential"]', 'type'), 'password');
  await page.fill('#source-form [data-field="credential"]', TOKEN);
  await page.click('#source-form-submit');
  await page.waitForSelector('#source-form', { state: 'hidden' });
  const item = page.locator('#admin-list .admin-item', { hasText: 'browserslack' });
  await item.waitFor();
  const added = (await apiSources()).find((s) => s.name === 'browserslack');
  assert.ok(added, 'listed by the API');
  assert.equal(added.kind, 'slack');
  assert.equal(added.credential_set, true);
  assert.equal(added.interval_min, 0);
  assert.equal(await item.locator('.admin-next-run dd').textContent(), 'manual only');

  // Sync now: the fake workspace's message arrives.
  await item.locator('.admin-sync').click();
  await page.waitForFunction((id) => document.querySelector(`#admin-list .admin-item[data-id="${id}"] .admin-documents dd`)?.textContent === '1',
    added.id, { timeout: 60000 });

  // Edit: the interval, then the credential.
  await item.locator('.admin-edit-btn').click();
  await item.locator('.admin-edit').waitFor();
  assert.match(await item.locator('.admin-edit').textContent(), /Credential set: yes/);
  assert.equal(await item.locator('.admin-edit-credential').inputValue(), '', 'the credential is never shown');
  await shot(page, 'admin-02-edit');
  await item.locator('.admin-edit-interval').fill('-3');
  await item.locator('.admin-edit-save').click();
  await item.locator('.admin-edit-error:not([hidden])').waitFor();
  assert.match(await item.locator('.admin-edit-error').textContent(), /^interval_min: /);
  assert.equal(await item.locator('.admin-edit-interval').getAttribute('aria-invalid'), 'true');
  await item.locator('.admin-edit-interval').fill('45');
  await item.locator('.admin-edit-save').click();
  await item.locator('.admin-edit').waitFor({ state: 'detached' });
  assert.equal((await apiSources()).find((s) => s.id === added.id).interval_min, 45);
  await item.locator('.admin-edit-btn').click();
  assert.equal(await item.locator('.admin-edit-interval').inputValue(), '45');
  await item.locator('.admin-edit-credential').fill('xoxb-replaced-in-the-browser');
  await item.locator('.admin-edit-save').click();
  await item.locator('.admin-edit').waitFor({ state: 'detached' });
  const edited = (await apiSources()).find((s) => s.id === added.id);
  assert.equal(edited.credential_set, true);
  assert.equal(edited.interval_min, 45);

  // Remove: a confirmation first; Cancel keeps the source.
  await item.locator('.admin-remove-btn').click();
  await item.locator('.admin-confirm').waitFor();
  assert.match(await item.locator('.admin-confirm').textContent(), /Remove browserslack and its 1 documents/);
  await shot(page, 'admin-03-confirm');
  await item.locator('.admin-confirm-cancel').click();
  await item.locator('.admin-confirm').waitFor({ state: 'detached' });
  assert.ok((await apiSources()).some((s) => s.id === added.id), 'Cancel removed nothing');
  await item.locator('.admin-remove-btn').click();
  await item.locator('.admin-confirm-remove').click();
  await item.waitFor({ state: 'detached' });
  assert.ok(!(await apiSources()).some((s) => s.id === added.id), 'removed');
  await shot(page, 'admin-04-removed');

  for (const b of bodies) {
    assert.ok(!b.includes(TOKEN) && !b.includes('xoxb-replaced'), 'no response carries a token');
    assert.ok(!b.includes('sb1:'), 'nor a sealed one');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('admin: French labels for the form', { skip }, async () => {
  const context = await browser.newContext({ viewport: { width: 420, height: 860 }, locale: 'fr-FR', colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(`${base}/#/admin`);
  await page.waitForSelector('#admin-dialog[open] #admin-list[data-loaded="true"]');
  await page.click('#admin-add');
  await page.selectOption('#source-form [data-field="kind"]', 'confluence');
  const text = await page.textContent('#source-form');
  assert.match(text, /Jeton/);
  assert.match(text, /URL du site/);
  await shot(page, 'admin-05-fr-phone');
  await context.close();
});
