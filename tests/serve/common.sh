# common.sh - helpers for the `sopgate serve` tests: a temp directory with a
# copy of examples/acme whose policy lets tests reach every gate, users with
# tokens, and a server on a free loopback port. Sourced, not run.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SOPGATE=${SOPGATE:-$top/build/sopgate}
export SOPGATE_DATA=${SOPGATE_DATA:-$top/build/data}
W=$(mktemp -d "${SG_TEST_TMP:-/tmp}/serve.XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
die() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -n 20 "$W/log"; exit 1; }

# A test policy: the example with the confidence bands lowered (the example
# classifier is unsure of short tickets) and a rule sending drafts that
# contain TWOSTEP to the two_step gate.
make_policy() {
	cp -r "$top/examples/acme/." "$W/acme/" 2>/dev/null || { mkdir -p "$W/acme"; cp -r "$top/examples/acme/." "$W/acme/"; }
	python3 - "$W/acme/policy.yaml" <<'PY' || die "cannot write the test policy"
import sys
p = sys.argv[1]; s = open(p).read()
def sub(a, b):
    global s
    if a not in s: sys.exit("policy text not found: " + a)
    s = s.replace(a, b, 1)
sub("  summarize_only_below: 0.60", "  summarize_only_below: 0.0")
sub("  high:   {intent: 0.80, sentiment: 0.70}", "  high:   {intent: 0.02, sentiment: 0.0}")
sub("  medium: {intent: 0.60, negative_sentiment: 0.70}", "  medium: {intent: 0.01, negative_sentiment: 0.70}")
sub("  rules:\n    - name: refund-commitment",
    "  rules:\n    - name: test-two-step\n      gate: two_step\n      when: contains(draft.text, \"TWOSTEP\")\n    - name: refund-commitment")
open(p, "w").write(s)
PY
	"$SOPGATE" check "$W/acme/policy.yaml" >/dev/null 2>&1 || die "test policy has errors"
}

# add_user NAME ROLE -> sets TOKEN_<NAME>
add_user() {
	local t
	t=$("$SOPGATE" user add "$1" --role "$2" --db "$W/db" 2>/dev/null | grep -o 'sgt_[0-9a-f]*') ||
		die "user add $1"
	eval "TOKEN_$1=$t"
}

# start_server [extra args...] -> sets PORT, BASE
start_server() {
	: >"$W/log"
	"$SOPGATE" serve --policy "$W/acme/policy.yaml" --db "$W/db" --listen 127.0.0.1:0 \
		--console "$top/src/server/console" "$@" 2>>"$W/log" &
	SERVER_PID=$!
	for _ in $(seq 1 300); do
		PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$W/log" | tail -n 1)
		[ -n "$PORT" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || die "server exited at start"
		sleep 0.1
	done
	[ -n "$PORT" ] || die "server did not start"
	BASE=http://127.0.0.1:$PORT
}

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID"
	local rc=$?
	SERVER_PID=
	return $rc
}

# req METHOD PATH TOKEN [BODY] -> prints "STATUS BODY"
req() {
	local m=$1 p=$2 tok=$3 body=${4-}
	local args=(-s -o "$W/resp" -w '%{http_code}' -X "$m")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	STATUS=$(curl "${args[@]}" "$BASE$p") || die "curl $m $p failed"
	RESP=$(cat "$W/resp")
}

# expect STATUS NAME [jq-filter expected]
expect() {
	local want=$1 name=$2
	[ "$STATUS" = "$want" ] || die "$name: status $STATUS, expected $want: $RESP"
	if [ $# -ge 4 ]; then
		local got
		got=$(printf '%s' "$RESP" | jq -r "$3") || die "$name: not JSON: $RESP"
		[ "$got" = "$4" ] || die "$name: $3 = '$got', expected '$4' ($RESP)"
	fi
	echo "ok $name"
}
