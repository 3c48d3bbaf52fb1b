"""Checks of `savoir serve --chat openai` in front of a real llama-server with a
tiny random-weight model (driven by ../models_openai.sh). The answers are
gibberish: only the protocol, streaming, usage and citations are checked.

Usage: models_openai_checks.py BASE_URL SAVOIR_BIN DATA_DIR model|down
  model: the language model is up; down: it was stopped (fallback expected).
"""
import http.client
import json
import re
import subprocess
import sys
import urllib.parse

BASE, BIN, DATA, STAGE = sys.argv[1:5]
U = urllib.parse.urlparse(BASE)
QUESTION = "How long are database backups retained?"
NOTICE = "The language model is unavailable; this answer is extracted from the sources."
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return cond


def post(path, payload):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=120)
    c.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, r.getheader("Content-Type", ""), raw


def sse(path, payload):
    """[(event, data)] of a Server-Sent Events reply (event None for data-only)."""
    st, ctype, raw = post(path, payload)
    check(st == 200 and ctype.startswith("text/event-stream"), f"{path}: {st} {ctype} {raw[:200]!r}")
    out = []
    for block in raw.decode().split("\n\n"):
        ev, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            out.append((ev, "\n".join(data)))
    return out


def usage_rows():
    r = subprocess.run([BIN, "--data", DATA, "usage", "-n", "1000", "--json"], capture_output=True, text=True)
    check(r.returncode == 0, f"savoir usage: {r.returncode} {r.stderr}")
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def markers(text):
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def chat(payload):
    events = sse("/api/chat", payload)
    names = [e for e, _ in events]
    check(names[:1] == ["sources"] and names[-2:] == ["citations", "done"], f"event order {names}")
    sources = json.loads(events[0][1])["results"] if events else []
    deltas = [json.loads(d)["text"] for e, d in events if e == "delta"]
    cites = json.loads(events[-2][1])["citations"] if len(events) >= 2 else []
    done = json.loads(events[-1][1]) if events else {}
    text = "".join(deltas)
    # Citations checked against the passages given: every [n] names a source,
    # and the citations list is exactly the markers of the text.
    check(all(1 <= n <= len(sources) for n in markers(text)), f"[n] beyond the sources: {text!r}")
    check({c["n"] for c in cites} == set(markers(text)), f"citations {cites} vs text {text!r}")
    return sources, deltas, cites, done, text


before = len(usage_rows())

if STAGE == "model":
    sources, deltas, cites, done, text = chat({"query": QUESTION})
    check(len(sources) > 0, "sources shown")
    check(len(deltas) >= 2, f"the answer streams in pieces ({len(deltas)})")
    check(done.get("mode") == "model" and done.get("model") == "tiny-llama", f"done {done}")
    check(done.get("notice") is None, f"no notice when the model answers: {done}")
    u = done.get("usage") or {}
    check(u.get("model") == "tiny-llama", f"usage model {u}")
    check(u.get("prompt_tokens", 0) > 50, f"prompt tokens counted by llama-server {u}")
    check(0 < u.get("completion_tokens", 0) <= 24, f"completion tokens within --answer-max-tokens {u}")
    check(u.get("total_tokens") == u.get("prompt_tokens", 0) + u.get("completion_tokens", 0), f"total {u}")
    check(0 < u.get("first_token_ms", 0) <= u.get("latency_ms", 0), f"timings {u}")

    # A follow-up: rewritten by the model before retrieval (a "rewrite" row).
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": text}]
    _, _, _, done2, _ = chat({"query": "and for the staging database?", "history": history})
    check(done2.get("mode") in ("model", "extractive"), f"follow-up done {done2}")

    # OpenAI-compatible API, non-stream: usage is the model's.
    st, _, raw = post("/v1/chat/completions", {"model": "savoir", "messages": [{"role": "user", "content": QUESTION}]})
    check(st == 200, f"/v1/chat/completions {st} {raw[:200]!r}")
    r = json.loads(raw)
    ou = r.get("usage", {})
    check(ou.get("prompt_tokens", 0) > 50 and 0 < ou.get("completion_tokens", 0) <= 24, f"openai usage {ou}")
    content = r["choices"][0]["message"]["content"]
    check(all(1 <= n <= len(r["sources"]) for n in markers(content)), f"openai [n] {content!r}")

    # Stream with include_usage: chunks, then usage, then [DONE].
    ev = sse("/v1/chat/completions", {"model": "savoir", "stream": True, "stream_options": {"include_usage": True},
                                      "messages": [{"role": "user", "content": QUESTION}]})
    check(ev and ev[-1][1] == "[DONE]", "ends with [DONE]")
    chunks = [json.loads(d) for _, d in ev[:-1]]
    check(len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) >= 2, "content chunks")
    check("usage" in chunks[-1] and chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0,
          f"last chunk carries usage {chunks[-1]}")

    rows = usage_rows()
    new = rows[: len(rows) - before]
    modes = [x["mode"] for x in new]
    check(modes.count("model") >= 3, f"model answers recorded {modes}")
    check("rewrite" in modes, f"the follow-up rewrite is recorded {modes}")
    for x in new:
        if x["mode"] == "model":
            check(x["model"] == "tiny-llama" and x["prompt_tokens"] > 0 and x["completion_tokens"] > 0
                  and x["latency_ms"] >= x["first_token_ms"] > 0 and x["error"] == "", f"usage row {x}")
else:
    sources, deltas, cites, done, text = chat({"query": QUESTION})
    check(len(sources) > 0, "search results still shown")
    check(done.get("mode") == "extractive", f"fallback mode {done}")
    check(done.get("notice") == NOTICE, f"notice {done}")
    check(len(text) > 20 and len(cites) > 0, f"the extractive answer, cited: {text!r}")
    st, _, raw = post("/v1/chat/completions", {"model": "savoir", "messages": [{"role": "user", "content": QUESTION}]})
    r = json.loads(raw)
    check(st == 200 and r.get("notice") == NOTICE and r["usage"]["total_tokens"] == 0, f"openai fallback {raw[:300]!r}")
    rows = usage_rows()
    new = rows[: len(rows) - before]
    check(len(new) == 2 and all(x["mode"] == "extractive" and x["model"] == "tiny-llama" and x["error"] for x in new),
          f"failures recorded with their error {new}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print(f"ok: {STAGE} checks")
