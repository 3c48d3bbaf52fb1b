// The official `openai` client against the real savoir binary: stream and
// non-stream chat completions, [n] citations and the extra `sources` field.
//
//   SAVOIR_URL=http://127.0.0.1:PORT node --test openai.test.mjs     (a running server)
//   SAVOIR_BIN=build/savoir SAVOIR_DEMO=demo node --test openai.test.mjs
//     (indexes the demo corpus into a temp folder and starts the binary on port 0)
//   SAVOIR_ANSWER_MODE=model   the server answers with a language model
//     (tests/e2e/models_openai.sh: a tiny random-weight model whose text is
//     gibberish): [n] citations are then optional but must point at sources,
//     and `usage` counts the model's tokens.
// Without either, the test is skipped (the mock server has no OpenAI API).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const skip = !process.env.SAVOIR_URL && !process.env.SAVOIR_BIN && 'needs SAVOIR_URL or SAVOIR_BIN';
let base, child, tmp;

before(async () => {
  if (skip) return;
  if (process.env.SAVOIR_URL) {
    base = process.env.SAVOIR_URL.replace(/\/+$/, '');
    return;
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'savoir-openai-'));
  const bin = process.env.SAVOIR_BIN;
  const demo = process.env.SAVOIR_DEMO || path.resolve(import.meta.dirname, '../../demo');
  execFileSync(bin, ['--data', tmp, 'index', demo], { stdio: 'ignore' });
  child = spawn(bin, ['--data', tmp, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/savoir: listening on (http:\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`savoir exited with ${code}`)));
  });
});

after(async () => {
  if (child) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'savoir exits 0 on SIGTERM');
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const modelMode = process.env.SAVOIR_ANSWER_MODE === 'model';
const client = () => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'single-user-mode-ignores-it', maxRetries: 0 });
const QUESTION = 'How long are database backups retained?';

function checkUsage(usage) {
  assert.equal(typeof usage?.prompt_tokens, 'number');
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  if (modelMode) {
    assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0, `model tokens counted: ${JSON.stringify(usage)}`);
    assert.equal(typeof usage.savoir?.model, 'string');
  } else {
    assert.equal(usage.total_tokens, 0, 'an extractive answer spends no model tokens');
  }
}

function checkSources(sources) {
  assert.ok(Array.isArray(sources) && sources.length > 0, 'sources present');
  sources.forEach((s, i) => {
    assert.equal(s.n, i + 1);
    assert.equal(typeof s.document_id, 'number');
    assert.equal(typeof s.title, 'string');
    assert.equal(typeof s.snippet, 'string');
    assert.equal(typeof s.source?.kind, 'string');
  });
}

test('models lists the savoir assistant', { skip }, async () => {
  const ids = [];
  for await (const m of client().models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['savoir']);
});

test('non-stream completion cites [n] and carries sources', { skip }, async () => {
  const r = await client().chat.completions.create({ model: 'savoir', messages: [{ role: 'user', content: QUESTION }] });
  assert.equal(r.object, 'chat.completion');
  const text = r.choices[0].message.content;
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(text.length > 20, `answer: ${text}`);
  const cited = [...text.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  if (!modelMode) assert.ok(cited.length > 0, `answer cites [n]: ${text}`);
  checkSources(r.sources);
  checkUsage(r.usage);
  assert.ok(cited.every((n) => n >= 1 && n <= r.sources.length), 'citations point at sources');
  assert.ok(r.sources.some((s) => /database-backup-restore/.test(s.url)), 'the backup runbook is a source');
});

test('stream: chunks, sources on the first chunk, [DONE]', { skip }, async () => {
  const stream = await client().chat.completions.create({
    model: 'savoir', stream: true,
    messages: [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: QUESTION }],
  });
  let text = '', chunks = 0, first = null, finish = null;
  for await (const chunk of stream) {
    if (!first) first = chunk;
    assert.equal(chunk.object, 'chat.completion.chunk');
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    chunks++;
  }
  assert.ok(chunks >= 3, `several chunks (${chunks})`);
  assert.equal(first.choices[0].delta.role, 'assistant');
  checkSources(first.sources);
  assert.equal(finish, 'stop');
  if (!modelMode) assert.match(text, /\[\d+\]/);
  const cited = [...text.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  assert.ok(cited.every((n) => n >= 1 && n <= first.sources.length), `citations point at sources: ${text}`);
});

test('stream with stream_options.include_usage: a last chunk with usage', { skip }, async () => {
  const stream = await client().chat.completions.create({
    model: 'savoir', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: QUESTION }],
  });
  let usage = null, afterUsage = 0;
  for await (const chunk of stream) {
    if (usage) afterUsage++;
    if (chunk.usage) {
      usage = chunk.usage;
      assert.deepEqual(chunk.choices, []);
    }
  }
  assert.ok(usage, 'usage chunk received');
  assert.equal(afterUsage, 0, 'usage comes last');
  checkUsage(usage);
});

test('unknown model: 404 with an OpenAI error body', { skip }, async () => {
  await assert.rejects(
    client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: QUESTION }] }),
    (e) => e.status === 404 && e.code === 'model_not_found' && /gpt-4o/.test(e.message),
  );
});
