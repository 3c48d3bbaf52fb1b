# Helpers to run a real `savoir serve` from the e2e scripts and benchmarks.
# Source this file; it defines:
#   savoir_index_demo BIN SRC DATA       index SRC/demo into the data folder DATA
#   savoir_start BIN DATA [ARGS...]      start the server on a free port; sets
#                                        SAVOIR_PID, SAVOIR_URL, SAVOIR_LOG
#                                        (the previous start's log files go;
#                                        the caller's EXIT trap removes the last)
#   savoir_stop                          SIGTERM the server, wait; returns its exit code

savoir_index_demo() {
  "$1" --data "$3" index "$2/demo" >/dev/null
}

savoir_start() {
  local bin=$1 data=$2
  shift 2
  [ -n "${SAVOIR_LOG:-}" ] && rm -f "$SAVOIR_LOG" "$SAVOIR_LOG.out"
  SAVOIR_LOG=$(mktemp "${TMPDIR:-/tmp}/savoir-serve-XXXXXX")
  local out="$SAVOIR_LOG.out"
  "$bin" --data "$data" serve --port 0 "$@" >"$out" 2>"$SAVOIR_LOG" &
  SAVOIR_PID=$!
  # The server prints one line once it listens: "savoir: listening on http://HOST:PORT".
  for _ in $(seq 1 200); do
    SAVOIR_URL=$(sed -n 's/^savoir: listening on \(http:.*\)$/\1/p' "$out")
    [ -n "$SAVOIR_URL" ] && return 0
    kill -0 "$SAVOIR_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "savoir serve did not start:" >&2
  cat "$out" "$SAVOIR_LOG" >&2
  return 1
}

savoir_stop() {
  [ -n "${SAVOIR_PID:-}" ] || return 0
  kill -TERM "$SAVOIR_PID" 2>/dev/null
  local rc=0
  wait "$SAVOIR_PID" || rc=$?
  SAVOIR_PID=
  return $rc
}
