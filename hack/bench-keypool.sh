#!/usr/bin/env bash
# Key pool benchmark: a standalone server with default flags (RSA-3072 keys, a pool of 64, one
# refill worker), then one without a pool; writes the "Kubeconfig keys" section of docs/performance.md.
# DURATION (default 10s) is the length of the sustained and no-pool issuance rows; IDLE (default 10s)
# the interval over which idle CPU is measured.
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
IDLE=${IDLE:-10s}
DOC=docs/performance.md
BIN=_output/bin/garden-apiserver
PERF=_output/bin/garden-perf
go build -trimpath -o "$BIN" ./cmd/apiserver
go build -trimpath -o "$PERF" ./test/perf

WORK=$(mktemp -d)
SERVER_PID=""
stop_server() {
	if [[ -n "$SERVER_PID" ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# start_server NAME ARGS...: a standalone server on a fresh state dir, once /readyz answers.
start_server() {
	STATE="$WORK/$1"; shift
	mkdir -p "$STATE"
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	"$BIN" --standalone --state-dir "$STATE" --bind-address 127.0.0.1 --secure-port "$port" "$@" >"$STATE.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 600); do
		kill -0 "$SERVER_PID" 2>/dev/null || { tail -50 "$STATE.log"; exit 1; }
		if [[ -f "$STATE/admin.kubeconfig" ]] && "$PERF" -kubeconfig "$STATE/admin.kubeconfig" -ready >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "server did not become ready"; exit 1
}

echo ">> default flags: rsa-3072, pool of 64"
start_server pool
"$PERF" -kubeconfig "$STATE/admin.kubeconfig" -phases pool -duration "$DURATION" -idle "$IDLE" -key-label rsa-3072 | tee "$WORK/pool.md"
stop_server
echo ">> rsa-3072 without a pool"
start_server nopool --shoot-kubeconfig-key-pool-size=0
"$PERF" -kubeconfig "$STATE/admin.kubeconfig" -phases idle -idle "$IDLE" -key-label "rsa-3072, no pool" | tee "$WORK/idle.md"
"$PERF" -kubeconfig "$STATE/admin.kubeconfig" -phases issue -clients 16 -duration "$DURATION" -key-label "rsa-3072, no pool" | tee "$WORK/nopool.md"
stop_server

# rows FILE: FILE without the header of a table that has no rows (phases print one each).
rows() {
	awk '/^\| operation \|/ { h = $0; next } /^\|---/ && h != "" { s = $0; next }
		{ if (h != "" && /^\|/) { print h; print s } h = ""; print }' "$1"
}

SECTION="$WORK/section.md"
{
	cat <<EOF
## Kubeconfig keys: RSA-3072 and the key pool

Written by \`hack/bench-keypool.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) shared cores (single runs).
A standalone server with default flags (RSA-3072, pool of 64, 1 worker) fills its pool, then:
its CPU over $IDLE idle; a burst of 64 admin kubeconfigs at 16 clients; 16 clients for $DURATION
with the pool drained; the refill time. Then the same without a pool (\`--shoot-kubeconfig-key-pool-size=0\`).

EOF
	rows "$WORK/pool.md"
	echo
	echo "| without a pool | measured |"
	echo "|---|---|"
	rows "$WORK/idle.md"
	echo
	rows "$WORK/nopool.md"
	echo
	echo "Targets: burst p99 < 100 ms; sustained rate as fast as the refill workers generate; no key"
	echo "generated while idle with the pool full (idle CPU the same as without a pool)."
} >"$SECTION"

# Replace the section (up to the next "## " heading) or append it at the end.
awk -v sec="$SECTION" '
	/^## Kubeconfig keys: RSA-3072 and the key pool[[:space:]]*$/ { skip = 1; while ((getline l < sec) > 0) print l; done = 1; next }
	skip && /^## / { skip = 0 }
	!skip { print }
	END { if (!done) { print ""; while ((getline l < sec) > 0) print l } }
' "$DOC" >"$WORK/doc.md"
cp "$WORK/doc.md" "$DOC"
echo ">> wrote the key pool section of $DOC"
