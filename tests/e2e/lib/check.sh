# Shared helpers for the end-to-end shell tests: counters and one-line checks.
# Source it after setting BIN and SRC.
fails=0; passes=0
ok() { passes=$((passes + 1)); echo "ok   - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
absent() { ! grep -q -- "$1" <<<"$2"; }
# Prints the closing line CTest and CI read, and exits non-zero on failure.
finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]; }
