// Client for the Savoir JSON API.
import { readSSE } from './sse.js';

export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message || code);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

async function errorFrom(res) {
  let code = `http_${res.status}`, message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body?.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON */ }
  return new ApiError(code, message, res.status);
}

async function request(path, { method = 'GET', body, signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      credentials: 'same-origin',
      headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('network', e.message);
  }
  if (!res.ok) throw await errorFrom(res);
  return res.json();
}

export const getMe = (signal) => request('/api/me', { signal });
export const getSources = (signal) => request('/api/sources', { signal });
export const syncSource = (id, signal) => request(`/api/sources/${encodeURIComponent(id)}/sync`, { method: 'POST', body: {}, signal });
export const addSource = (body, signal) => request('/api/sources', { method: 'POST', body, signal });
export const updateSource = (id, body, signal) => request(`/api/sources/${encodeURIComponent(id)}`, { method: 'PATCH', body, signal });
export const removeSource = (id, signal) => request(`/api/sources/${encodeURIComponent(id)}`, { method: 'DELETE', signal });
export const search = (body, signal) => request('/api/search', { method: 'POST', body, signal });
export const getDocument = (id, chunk, signal) =>
  request(`/api/documents/${encodeURIComponent(id)}${chunk != null ? `?chunk=${encodeURIComponent(chunk)}` : ''}`, { signal });

/**
 * POST /api/chat and dispatch its Server-Sent Events to handlers
 * {sources, delta, citations, done, error}. Resolves when the stream ends.
 * Throws ApiError for HTTP errors and AbortError when `signal` aborts.
 */
export async function chat(body, handlers, signal) {
  let res;
  try {
    res = await fetch('/api/chat', {
      method: 'POST',
      signal,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('network', e.message);
  }
  if (!res.ok) throw await errorFrom(res);
  if (!res.body) throw new ApiError('no_stream', 'empty response');
  let finished = false;
  await readSSE(res.body, ({ event, data }) => {
    let payload;
    try { payload = JSON.parse(data); } catch { return; }
    if (event === 'done' || event === 'error') finished = true;
    handlers[event]?.(payload);
  });
  return finished;
}
