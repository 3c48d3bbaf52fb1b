"""Checks of the real `savoir serve` over HTTP (driven by ../server_api.sh).

Usage: server_api_checks.py BASE_URL PACE_MS
The server must serve the demo corpus and stream answers with --answer-pace-ms PACE_MS.
Only the standard library: raw sockets where the exact bytes and timing matter.
"""
import concurrent.futures
import os
import http.client
import json
import re
import socket
import sys
import time
import urllib.parse

BASE = sys.argv[1]
PACE_MS = int(sys.argv[2])
U = urllib.parse.urlparse(BASE)
HOST, PORT = U.hostname, U.port
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return cond


def request(method, path, body=None, headers=None):
    c = http.client.HTTPConnection(HOST, PORT, timeout=20)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), raw


def get_json(method, path, body=None, status=200):
    st, h, raw = request(method, path, body)
    check(st == status, f"{method} {path} -> {st}, expected {status}: {raw[:200]!r}")
    check(h.get("content-type", "").startswith("application/json"), f"{path}: JSON content type")
    return json.loads(raw)


def expect_error(method, path, body, status, mentions=None, openai=False):
    st, h, raw = request(method, path, body)
    check(st == status, f"{method} {path} {str(body)[:60]!r} -> {st}, expected {status}")
    try:
        err = json.loads(raw)["error"]
        keys = {"message", "type", "code"} if openai else {"code", "message"}
        check(keys <= set(err), f"error body has {keys}: {err}")
        if mentions:
            check(mentions in err["message"], f"error message mentions {mentions!r}: {err['message']!r}")
    except (ValueError, KeyError, TypeError):
        check(False, f"error body is JSON {{error: ...}}: {raw[:200]!r}")


def raw_request(data, read_all=True, timeout=10):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if not read_all and b"\r\n\r\n" in out:
                break
    except socket.timeout:
        pass
    s.close()
    return out


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def check_result(r):
    types = {"document_id": int, "chunk_id": int, "title": str, "url": str, "snippet": str,
             "score": (int, float), "language": str, "heading_path": str, "source": dict}
    for k, t in types.items():
        check(isinstance(r.get(k), t), f"result field {k} is {t}: {r.get(k)!r}")
    s = r.get("source", {})
    check(isinstance(s.get("id"), int) and isinstance(s.get("kind"), str) and isinstance(s.get("name"), str),
          f"source is {{id, kind, name}}: {s}")
    check(r.get("updated_at") is None or ISO.match(r["updated_at"]), f"updated_at is ISO 8601 UTC: {r.get('updated_at')}")


def sse_events(payload, path="/api/chat", disconnect_after=None):
    """POSTs and reads the event stream off a raw socket: [(seconds, event, data)], headers."""
    body = json.dumps(payload).encode()
    s = socket.create_connection((HOST, PORT), timeout=20)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              f"Accept-Encoding: gzip, br\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    t0 = time.monotonic()
    buf, events, head = b"", [], None
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
        if head is None and b"\r\n\r\n" in buf:
            head, buf = buf.split(b"\r\n\r\n", 1)
        if head is None:
            continue
        # De-chunk what is complete so far.
        text = b""
        rest = buf
        while b"\r\n" in rest:
            size_line, after = rest.split(b"\r\n", 1)
            n = int(size_line, 16)
            if len(after) < n + 2:
                break
            text += after[:n]
            rest = after[n + 2:]
            if n == 0:
                rest = None
                break
        blocks = text.decode().split("\n\n")
        now = time.monotonic() - t0
        for blk in blocks[len(events):-1]:
            ev = dict(line.split(": ", 1) for line in blk.split("\n") if ": " in line)
            events.append((now, ev.get("event", "message"), ev.get("data")))
        if disconnect_after and any(e[1] == disconnect_after for e in events):
            s.close()
            return events, head
        if rest is None:
            break
    s.close()
    return events, head


# --- health, identity, sources -------------------------------------------
check(get_json("GET", "/healthz") == {"status": "ok"}, "healthz body")
check(get_json("GET", "/readyz").get("status") == "ready", "readyz ready")
me = get_json("GET", "/api/me")
check(me.get("mode") == "single-user" and me.get("user") == "local" and me.get("all_access") is True, f"/api/me {me}")
sources = get_json("GET", "/api/sources")["sources"]
check(len(sources) == 1 and sources[0]["documents"] >= 20 and sources[0]["kind"] == "files", f"sources {sources}")
src0 = sources[0]
check(src0["connector"] is False and src0["interval_min"] is None and src0["syncing"] is False, f"files source flags {src0}")
check(set(src0["status"]) == {"last_attempt", "last_success", "next_run", "documents_seen", "errors"}, f"status {src0}")
check("config_json" not in src0 and "config" not in src0, "no configuration in /api/sources")
expect_error("POST", f"/api/sources/{src0['id']}/sync", {}, 400, "savoir index")
expect_error("POST", "/api/sources/999/sync", {}, 404, "no source 999")
expect_error("POST", "/api/sources/x/sync", {}, 400)

# --- search ----------------------------------------------------------------
res = get_json("POST", "/api/search", {"query": "congés payés", "k": 5})
check(isinstance(res.get("took_ms"), (int, float)), "took_ms is a number")
results = res["results"]
check(0 < len(results) <= 5, f"1..5 results: {len(results)}")
check(results and results[0]["url"].endswith("demo/handbook/conges-payes.md"), f"top result is conges-payes.md: {results[0]['url'] if results else None}")
for r in results:
    check_result(r)
check(any("<mark>" in r["snippet"] for r in results), "a snippet has <mark>")
for r in results:
    plain = r["snippet"].replace("<mark>", "").replace("</mark>", "")
    check("&lt;" not in plain and "&amp;" not in plain, f"snippet is not HTML-escaped: {plain[:80]}")
en = get_json("POST", "/api/search", {"query": "password policy", "filters": {"languages": ["en"]}})["results"]
check(en and all(r["language"] == "en" for r in en), "language filter")
check(get_json("POST", "/api/search", {"query": "congés", "filters": {"updated_after": "2100-01-01"}})["results"] == [], "date filter")
check(get_json("POST", "/api/search", {"query": "congés", "filters": {"sources": [999]}})["results"] == [], "source filter")
# Single-user mode: the local user sees restricted folders too (their own machine).
sal = get_json("POST", "/api/search", {"query": "grille salaires ingénieur logiciel confirmé", "k": 3})["results"]
check(any("hr-confidential" in r["url"] for r in sal), "single-user mode sees hr-confidential")

# --- documents -------------------------------------------------------------
top = results[0]
doc = get_json("GET", f"/api/documents/{top['document_id']}?chunk={top['chunk_id']}")
text = doc["text"].encode()
p = doc["passage"]
check(p["chunk_id"] == top["chunk_id"] and 0 <= p["start"] < p["end"] <= len(text), f"passage offsets valid: {p}")
passage = text[p["start"]:p["end"]].decode()  # must cut at character boundaries
words = [w for w in re.split(r"\s+", top["snippet"].replace("<mark>", "").replace("</mark>", "").strip(" …")) if w]
check(all(w in passage for w in words[:5]), f"snippet words come from the passage: {words[:5]}")
check(doc["heading_path"] == top["heading_path"] and doc["source"]["id"] == top["source"]["id"], "document metadata")
check(get_json("GET", f"/api/documents/{top['document_id']}")["passage"] is None, "no chunk -> passage null")
expect_error("GET", "/api/documents/999999", None, 404)
expect_error("GET", "/api/documents/abc", None, 400, "document id")
expect_error("GET", f"/api/documents/{top['document_id']}?chunk=999999", None, 404)

# --- bad input -------------------------------------------------------------
expect_error("POST", "/api/search", "{not json", 400, "not valid JSON")
expect_error("POST", "/api/search", {"k": 3}, 400, "query")
expect_error("POST", "/api/search", {"query": ["a"]}, 400, "query must be a string")
expect_error("POST", "/api/search", {"query": "a", "k": 500}, 400, "k must be")
expect_error("POST", "/api/search", {"query": "a", "filters": {"updated_after": "soon"}}, 400, "updated_after")
expect_error("POST", "/api/search", {"query": "a" * 11000}, 413, "10240")
expect_error("POST", "/api/chat", {"query": 1}, 400, "query")
expect_error("POST", "/api/chat", {"query": "a", "history": "x"}, 400, "history")
expect_error("GET", "/api/nothing", None, 404)
expect_error("DELETE", "/api/search", None, 404)
deep = "[" * 100000 + "]" * 100000
expect_error("POST", "/api/search", deep, 400)

# --- static files and traversal --------------------------------------------
st, h, body = request("GET", "/")
check(st == 200 and h.get("content-type") == "text/html; charset=utf-8" and b"<html" in body.lower(), "/ is index.html")
check(h.get("cache-control") == "no-cache" and h.get("x-content-type-options") == "nosniff", "static headers")
check(h.get("content-security-policy") == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:", "CSP")
for path, ctype in [("/app.js", "text/javascript; charset=utf-8"), ("/style.css", "text/css; charset=utf-8")]:
    st, h, _ = request("GET", path)
    check(st == 200 and h.get("content-type") == ctype, f"{path} content type {h.get('content-type')}")
for path in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2f..%2fetc%2fpasswd",
             "/.%2e/.%2e/.%2e/etc/passwd", "/%2fetc%2fpasswd", "//etc/passwd", "/%252e%252e/etc/passwd",
             "/../CMakeLists.txt", "/..\\..\\etc\\passwd", "/index.html%00.js", "/api/../../etc/passwd"]:
    out = raw_request(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status = out.split(b" ", 2)[1] if out.startswith(b"HTTP/1.1 ") else b"closed"
    check(status in (b"404", b"400", b"closed") and b"root:" not in out and b"cmake_minimum" not in out,
          f"traversal {path} -> {status}")

# --- header injection ------------------------------------------------------
for path in [f"/api/documents/{top['document_id']}?chunk=1%0d%0aX-Injected:%20yes", "/%0d%0aX-Injected:%20yes",
             "/v1/x%0aX-Injected:%20yes"]:
    st, h, _ = request("GET", path)
    check("x-injected" not in h and 400 <= st < 500, f"no header injection via {path} ({st})")
out = raw_request(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: yes\r\nConnection: close\r\n\r\n")
check(b"X-Injected" not in out.split(b"\r\n\r\n")[0], "bare CR in a request header is not reflected")
out = raw_request(b"GARBAGE\r\n\r\n")
check(out == b"" or out.startswith(b"HTTP/1.1 400"), f"garbage request line -> 400 or close: {out[:40]!r}")

# --- chat stream -----------------------------------------------------------
events, head = sse_events({"query": "Combien de jours de congés payés par an ?", "k": 4})
names = [e[1] for e in events]
check(b"text/event-stream" in head and b"chunked" in head.lower(), f"SSE headers: {head!r}")
check(b"Content-Encoding" not in head, "event stream is not compressed")
check(len(names) >= 4 and names[0] == "sources" and names[-2] == "citations" and names[-1] == "done"
      and set(names[1:-2]) == {"delta"}, f"event order: {names}")
t_sources, t_done = events[0][0], events[-1][0]
deltas = [e for e in events if e[1] == "delta"]
print(f"chat stream: sources at {t_sources*1000:.0f} ms, {len(deltas)} deltas, done at {t_done*1000:.0f} ms")
check(t_done - t_sources >= 0.8 * PACE_MS / 1000 * len(deltas), "events arrive incrementally (done well after sources)")
check(deltas and deltas[0][0] - t_sources >= 0.5 * PACE_MS / 1000, "first delta arrives after sources with a gap")
srcs = json.loads(events[0][2])["results"]
for r in srcs:
    check_result(r)
answer = "".join(json.loads(d[2])["text"] for d in deltas)
check(re.search(r"\[\d+\]", answer), f"answer cites [n]: {answer[:120]}")
cites = json.loads(events[-2][2])["citations"]
for c in cites:
    check(1 <= c["n"] <= len(srcs) and srcs[c["n"] - 1]["document_id"] == c["document_id"], f"citation {c} matches source n")
    d = get_json("GET", f"/api/documents/{c['document_id']}?chunk={c['chunk_id']}")
    check(0 <= c["start"] < c["end"] <= len(d["text"].encode()), f"citation offsets inside the document: {c}")
done = json.loads(events[-1][2])
check(set(done["timings"]) == {"retrieve_ms", "answer_ms", "total_ms"} and done["mode"], f"done payload {done}")

follow = sse_events({"query": "Et à temps partiel ?", "history": [
    {"role": "user", "content": "Combien de jours de congés payés par an ?"},
    {"role": "assistant", "content": answer}]})[0]
check([e[1] for e in follow][-1] == "done", "follow-up completes")
check(any("conges-payes" in r["url"] for r in json.loads(follow[0][2])["results"]), "follow-up borrows the previous question")

# --- clients that leave mid-stream ------------------------------------------
for _ in range(5):
    ev, _ = sse_events({"query": "How long are database backups retained?"}, disconnect_after="delta")
    check(ev and ev[0][1] == "sources", "stream started before the disconnect")
time.sleep(0.2)
check(get_json("GET", "/healthz") == {"status": "ok"}, "server alive after clients left mid-stream")
check(sse_events({"query": "VPN"})[0][-1][1] == "done", "a full chat still works after disconnects")

# --- many clients at once ---------------------------------------------------
def one_client(i):
    if i % 5 == 0:
        ev, _ = sse_events({"query": "remote work allowance"})
        return ev[-1][1] == "done" if ev else False
    st, _, raw = request("POST", "/api/search", {"query": ["congés", "backup", "VPN", "expense report"][i % 4]})
    return st == 200 and json.loads(raw)["results"] != []


t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
    oks = list(pool.map(one_client, range(50)))
print(f"50 concurrent clients: {sum(oks)}/50 ok in {time.monotonic() - t0:.2f} s")
check(all(oks), f"50 concurrent clients all served: {oks.count(False)} failed")

# --- a thousand connections at once ------------------------------------------
def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def thousand_connections(n=1000, timeout=60.0):
    """Opens n connections at once, each sends one request; returns (answered 200, cleanly closed, stuck)."""
    import resource
    import selectors
    import socket
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
    host, port = BASE.split("//")[1].split(":")
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, int(port)))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, {"sent": False, "data": b""})
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ok = closed = 0
    pending = n
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, mask in sel.select(timeout=1):
            s, st = key.fileobj, key.data
            try:
                if not st["sent"]:
                    s.send(req)
                    st["sent"] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                chunk = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if chunk:
                st["data"] += chunk
                continue
            sel.unregister(s)
            s.close()
            pending -= 1
            if st["data"].startswith(b"HTTP/1.1 200"):
                ok += 1
            else:
                closed += 1
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    return ok, closed, pending


pid = os.environ.get("SAVOIR_PID")
rss_before = rss_kb(pid) if pid else 0
t0 = time.monotonic()
ok, closed, stuck = thousand_connections()
print(f"1000 connections at once: {ok} answered, {closed} closed cleanly, {stuck} stuck, in {time.monotonic() - t0:.1f} s")
check(stuck == 0, f"1000 concurrent connections: {stuck} got neither an answer nor a close")
check(ok >= 900, f"1000 concurrent connections: only {ok} answered")
check(get_json("GET", "/healthz") == {"status": "ok"}, "server alive after 1000 connections")
if pid:
    rss_after = rss_kb(pid)
    print(f"server RSS {rss_before} kB -> {rss_after} kB")
    check(rss_after < rss_before + 200 * 1024, f"memory stays bounded: RSS {rss_before} -> {rss_after} kB")

# --- OpenAI-compatible basics (the JS test uses the official client) --------
models = get_json("GET", "/v1/models")
check([m["id"] for m in models["data"]] == ["savoir"], f"models {models}")
expect_error("POST", "/v1/chat/completions", {"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}, 404,
             "gpt-9", openai=True)
expect_error("POST", "/v1/chat/completions", {"messages": "x"}, 400, "messages", openai=True)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all server API checks passed")
