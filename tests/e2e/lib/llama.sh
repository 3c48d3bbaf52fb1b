# Shared by the e2e scripts that need llama.cpp's llama-server (sourced).
# Needs LLAMA_SERVER (the binary) and LLAMA_LOG_DIR (where its logs go);
# callers kill "${LLAMA_PIDS[@]}" in their EXIT trap.
LLAMA_PIDS=("${LLAMA_PIDS[@]+"${LLAMA_PIDS[@]}"}")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts llama-server with the given arguments on a free loopback port and
# waits for /health; sets LLAMA_URL and LLAMA_PID.
start_llama() {
  local port log
  port=$(free_port)
  log=${LLAMA_LOG_DIR:?}/llama-$port.log
  "$LLAMA_SERVER" --host 127.0.0.1 --port "$port" -t 1 --no-warmup "$@" >"$log" 2>&1 &
  LLAMA_PID=$!
  LLAMA_PIDS+=("$LLAMA_PID")
  LLAMA_URL=http://127.0.0.1:$port
  for _ in $(seq 1 300); do
    curl -sf "$LLAMA_URL/health" >/dev/null 2>&1 && return 0
    kill -0 "$LLAMA_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "llama-server did not start:"; tail -20 "$log"
  return 1
}
