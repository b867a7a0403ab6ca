#!/usr/bin/env bash
# Live-server benchmark: builds the server and the load generator, runs a standalone server
# (embedded etcd, loopback, temp state dir) once with ECDSA P-256 and once with RSA-3072
# kubeconfig keys, then the side-by-side run (`garden-perf -compare`: one etcd, one
# kube-apiserver, our server in delegated mode on that etcd, behind an APIService) with the
# memory and cold-start measurement, and writes the "Live server" section of docs/performance.md.
#
# DURATION (default 5s) is the length of each measured phase. LOAD_OBJECTS (default 100000) is
# the largest number of stored 1 KiB InternalSecrets for the RSS and cold-start rows (measured at
# 10000 and at LOAD_OBJECTS; 0 skips them). COMPARE_CLIENTS (default 1,16) are the concurrencies
# of the side-by-side create/get rows, COMPARE_DURATION (default 10s) the length of each of its rows.
# PPROF_DIR, if set, receives CPU profiles of the servers during the side-by-side rows.
# BEFORE_BIN, if set, is an earlier build of the server: the P-256 issuance phase then runs
# against it and against this build in turns (two rounds, JSON clients for both).
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
LOAD_OBJECTS=${LOAD_OBJECTS:-100000}
COMPARE_CLIENTS=${COMPARE_CLIENTS:-1,16}
COMPARE_DURATION=${COMPARE_DURATION:-10s}
PPROF_DIR=${PPROF_DIR:-}
BEFORE_BIN=${BEFORE_BIN:-}
DOC=docs/performance.md
BIN=_output/bin/garden-apiserver
PERF=_output/bin/garden-perf

./hack/build-tools.sh # etcd and kube-apiserver for the side-by-side run (cached after the first build)
go build -trimpath -o "$BIN" ./cmd/apiserver
go build -trimpath -o "$PERF" ./test/perf

WORK=$(mktemp -d)
SERVER_PID=""
PERF_PID=""
stop_server() {
	if [[ -n "$SERVER_PID" ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}
stop_perf() {
	# garden-perf -compare stops its own servers on SIGTERM.
	if [[ -n "$PERF_PID" ]]; then
		kill "$PERF_PID" 2>/dev/null || true
		wait "$PERF_PID" 2>/dev/null || true
		PERF_PID=""
	fi
}
trap 'stop_perf; stop_server; rm -rf "$WORK"' EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# start_server NAME ARGS...: starts the server on a fresh state dir and waits for /readyz.
start_server() {
	local name=$1; shift
	STATE="$WORK/$name"
	mkdir -p "$STATE"
	PORT=$(free_port)
	"${RUN_BIN:-$BIN}" --standalone --state-dir "$STATE" --bind-address 127.0.0.1 --secure-port "$PORT" "$@" \
		>"$WORK/$name.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 600); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "server exited:"; tail -50 "$WORK/$name.log"; exit 1
		fi
		if [[ -f "$STATE/admin.kubeconfig" ]] && "$PERF" -kubeconfig "$STATE/admin.kubeconfig" -ready >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "server did not become ready"; tail -50 "$WORK/$name.log"; exit 1
}

CMD="DURATION=$DURATION LOAD_OBJECTS=$LOAD_OBJECTS COMPARE_CLIENTS=$COMPARE_CLIENTS COMPARE_DURATION=$COMPARE_DURATION${BEFORE_BIN:+ BEFORE_BIN=<earlier build>} make bench"
echo ">> ecdsa-p256 server"
start_server ecdsa --shoot-kubeconfig-key-type=ecdsa-p256
RSS_IDLE=$(rss_kib "$SERVER_PID")
"$PERF" -kubeconfig "$STATE/admin.kubeconfig" -duration "$DURATION" -key-label ecdsa-p256 | tee "$WORK/table1.md"
RSS_AFTER_RUN=$(rss_kib "$SERVER_PID")
stop_server

echo ">> rsa-3072 server"
start_server rsa --shoot-kubeconfig-key-type=rsa-3072
"$PERF" -kubeconfig "$STATE/admin.kubeconfig" -duration "$DURATION" -phases issue -key-label rsa-3072 -no-header |
	tee "$WORK/table2.md"
stop_server

: >"$WORK/issue.md"
if [[ -n "$BEFORE_BIN" ]]; then
	echo ">> P-256 issuance, $BEFORE_BIN and this build in turns"
	for round in 1 2; do
		for which in before after; do
			bin=$BIN
			[[ "$which" == before ]] && bin=$BEFORE_BIN
			RUN_BIN=$bin start_server "issue-$which-$round" --shoot-kubeconfig-key-type=ecdsa-p256
			"$PERF" -kubeconfig "$STATE/admin.kubeconfig" -duration "$DURATION" -phases issue -clients 16 \
				-content-type application/json -key-label "ecdsa-p256, $which, round $round" -no-header | tee -a "$WORK/issue.md"
			stop_server
		done
	done
fi

echo ">> side by side with kube-apiserver"
MEM_OBJECTS=""
if (( LOAD_OBJECTS > 10000 )); then MEM_OBJECTS="10000,$LOAD_OBJECTS"; elif (( LOAD_OBJECTS > 0 )); then MEM_OBJECTS="$LOAD_OBJECTS"; fi
"$PERF" -compare -compare-duration "$COMPARE_DURATION" -clients "$COMPARE_CLIENTS" -mem-objects "$MEM_OBJECTS" \
	-verdicts "$WORK/verdicts.md" ${PPROF_DIR:+-pprof-dir "$PPROF_DIR"} >"$WORK/compare.md" &
PERF_PID=$!
wait "$PERF_PID"
PERF_PID=""
cat "$WORK/compare.md"

# rate LABEL CLIENTS: ops/s of a row.
rate() {
	awk -F'|' -v op="$1" -v c="$2" '{gsub(/^ +| +$/, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $5)} $2 == op && $3 == c {print $5}' \
		"$WORK/table1.md" "$WORK/table2.md"
}
p99() {
	awk -F'|' -v op="$1" -v c="$2" '{gsub(/^ +| +$/, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $7)} $2 == op && $3 == c {print $7}' \
		"$WORK/table1.md" "$WORK/table2.md"
}
verdict() { if [[ "$1" == 1 ]]; then echo "**met**"; else echo "**not met**"; fi; }

LIST_P99=$(p99 "list 500 (resourceVersion=0: watch cache)" 1)
LIST_RAW_P99=$(p99 "list 500 (resourceVersion=0, body not decoded)" 1)
P256_1=$(rate "adminkubeconfig issuance (ecdsa-p256)" 1)
P256_16=$(rate "adminkubeconfig issuance (ecdsa-p256)" 16)
RSA_1=$(rate "adminkubeconfig issuance (rsa-3072)" 1)
RSA_16=$(rate "adminkubeconfig issuance (rsa-3072)" 16)
P256_1=${P256_1:-0} P256_16=${P256_16:-0} RSA_1=${RSA_1:-0} RSA_16=${RSA_16:-0} LIST_P99=${LIST_P99:-999}
P256_BEST=$(( P256_1 > P256_16 ? P256_1 : P256_16 ))
RSA_BEST=$(( RSA_1 > RSA_16 ? RSA_1 : RSA_16 ))
RATIO=$(awk -v a="$P256_BEST" -v b="$RSA_BEST" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }')
LIST_OK=$(awk -v p="$LIST_P99" 'BEGIN { print (p < 20) ? 1 : 0 }')
P256_OK=$(( P256_BEST >= 500 ? 1 : 0 ))
# issue_rate WHICH: mean ops/s of the before/after issuance rounds.
issue_rate() {
	awk -F'|' -v w=", $1," '{gsub(/ /, "", $5)} index($2, w) {s += $5; n++} END { if (n) printf "%.0f", s / n; else print 0 }' "$WORK/issue.md"
}
ISSUE_VERDICT=""
if [[ -s "$WORK/issue.md" ]]; then
	AFTER=$(issue_rate after) BEFORE=$(issue_rate before)
	ISSUE_RATIO=$(awk -v a="$AFTER" -v b="$BEFORE" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	ISSUE_VERDICT="| adminkubeconfig issuance with P-256 at 16 clients >= 500/s with the authorizer deciding the group (this build vs an earlier build, JSON clients, mean of 2 rounds) | $AFTER/s after, $BEFORE/s before (${ISSUE_RATIO}x) | $(verdict $(( AFTER >= 500 ? 1 : 0 ))) |"
fi
RATIO_OK=$(awk -v r="$RATIO" 'BEGIN { print (r == "inf" || r >= 50) ? 1 : 0 }')

mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)

SECTION="$WORK/section.md"
{
	cat <<EOF
## Live server

Written by \`hack/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (\`$CMD\`; replaced on each run; method
above). Machine: $(nproc) cores, $CPU, $(go version | awk '{print $3, $4}'); single runs on shared
cores, so compare ratios, not absolutes.

### Standalone server, generated clientset (protobuf), $DURATION per row

EOF
	cat "$WORK/table1.md" "$WORK/table2.md"
	cat <<EOF

RSS of the P-256 server (embedded etcd included): $(mib "$RSS_IDLE") ready and idle, $(mib "$RSS_AFTER_RUN") after the rows above.
$(if [[ -s "$WORK/issue.md" ]]; then cat <<EOT

P-256 issuance, an earlier build ("before") and this build ("after") in turns, JSON clients:

| operation | clients | ops | ops/s | p50 ms | p99 ms | errors |
|---|---:|---:|---:|---:|---:|---:|
$(cat "$WORK/issue.md")
EOT
fi)

### Side by side with kube-apiserver, $COMPARE_DURATION per row

Each cell: ops/s · p99 ms · server CPU ms per request.

$(cat "$WORK/compare.md")

### Against the targets

| target | measured | verdict |
|---|---|---|
$(cat "$WORK/verdicts.md")
${ISSUE_VERDICT:+$ISSUE_VERDICT
}| list of 500 from the watch cache (resourceVersion=0), p99 < 20 ms (standalone) | p99 $LIST_P99 ms decoded; ${LIST_RAW_P99:-?} ms not decoded | $(verdict "$LIST_OK") (decoded row) |
| adminkubeconfig issuance with P-256 >= 500/s | $P256_BEST/s (best of 1 and 16 clients) | $(verdict "$P256_OK") |
| P-256 issuance >= 50x the RSA-3072 rate | ${RATIO}x ($P256_BEST/s vs $RSA_BEST/s) | $(verdict "$RATIO_OK") |
EOF
} >"$SECTION"

# Replace the "Live server" section (up to the next "## " heading) or append it.
awk -v sec="$SECTION" '
	/^## Live server[[:space:]]*$/ { skip = 1; while ((getline l < sec) > 0) print l; done = 1; next }
	skip && /^## / { skip = 0 }
	!skip { print }
	END { if (!done) { print ""; while ((getline l < sec) > 0) print l } }
' "$DOC" >"$WORK/doc.md"
cp "$WORK/doc.md" "$DOC"
echo ">> wrote the Live server section of $DOC"
