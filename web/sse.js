// Server-Sent Events parser for fetch() streams (EventSource cannot POST).
// Pure module (no DOM): also imported by the Node tests in tests/js.

/**
 * Incremental SSE parser. Feed it text chunks in arrival order; it calls
 * onEvent({event, data, id}) once per complete event. Events split across
 * chunks, CRLF/CR line endings and multi-line data are handled as in the
 * WHATWG EventSource spec.
 */
export class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.reset();
    this.lastId = '';
  }

  reset() {
    this.eventType = '';
    this.dataLines = [];
  }

  push(chunk) {
    this.buffer += chunk;
    // Only consume complete lines; a trailing "\r" may still be followed by "\n".
    let start = 0;
    for (;;) {
      let nl = -1;
      for (let i = start; i < this.buffer.length; i++) {
        const c = this.buffer.charCodeAt(i);
        if (c === 10 || c === 13) { nl = i; break; }
      }
      if (nl < 0) break;
      let next = nl + 1;
      if (this.buffer.charCodeAt(nl) === 13) {
        if (nl + 1 >= this.buffer.length) break; // wait: might be CRLF
        if (this.buffer.charCodeAt(nl + 1) === 10) next = nl + 2;
      }
      this.line(this.buffer.slice(start, nl));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** Call at end of stream: a last event without its blank line is dropped (per spec). */
  end() {
    if (this.buffer.endsWith('\r')) this.push('\n');
    this.buffer = '';
    this.reset();
  }

  line(line) {
    if (line === '') {
      if (this.dataLines.length) {
        this.onEvent({ event: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastId });
      }
      this.reset();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ":" comment / keep-alive
    const colon = line.indexOf(':');
    let field = line, value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    if (field === 'event') this.eventType = value;
    else if (field === 'data') this.dataLines.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // "retry" and unknown fields are ignored.
  }
}

/**
 * Reads an SSE response body (a ReadableStream of bytes) and calls
 * onEvent for each event. Resolves when the stream ends; rejects on a
 * network error or an abort (AbortError).
 */
export async function readSSE(body, onEvent) {
  const parser = new SSEParser(onEvent);
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
    parser.end();
  } finally {
    reader.releaseLock();
  }
}
