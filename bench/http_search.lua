-- wrk script: POST /api/search with a rotation of demo-corpus questions, and
-- one machine-readable summary line (req/s, p50 ms, p99 ms, errors, requests).
local queries = {
  "congés payés", "How long are database backups retained?", "VPN",
  "indemnité de télétravail", "Who must approve an expense report above 500?",
  "SEV1 acknowledge on-call", "longueur minimale mot de passe", "gel des déploiements",
}
-- With SAVOIR_QUERIES=FILE (one JSON string per line, e.g. BEIR queries),
-- those queries are used instead.
local file = os.getenv("SAVOIR_QUERIES")
if file then
  local f = io.open(file, "r")
  if f then
    queries = {}
    for line in f:lines() do
      if #line > 2 then queries[#queries + 1] = line:sub(2, -2) end
    end
    f:close()
  end
end
local i = 0

request = function()
  i = i + 1
  local body = '{"query": "' .. queries[i % #queries + 1] .. '", "k": 10}'
  return wrk.format("POST", "/api/search", { ["Content-Type"] = "application/json" }, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, summary.requests))
end
