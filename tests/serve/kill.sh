#!/usr/bin/env bash
# kill.sh - SIGKILL during a burst of POSTs: every ticket acknowledged with
# 201 must be in the database afterwards, and the audit chain must verify.
. "$(dirname "$0")/common.sh"
make_policy
add_user alice agent
start_server --threads 4
N=1000
: >"$W/acked"
post() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_alice" \
		-H 'Content-Type: application/json' --data-binary \
		"{\"id\":\"K-$1\",\"event_id\":\"e1\",\"body\":\"Where is my order ACME-$1?\",\"customer\":{\"id\":\"C-$1\",\"tier\":\"paid\"}}" \
		"$BASE/v1/tickets")
	[ "$code" = 201 ] && echo "K-$1" >>"$W/acked"
	return 0
}
export -f post; export TOKEN_alice BASE W
seq 1 $N | xargs -P 8 -I{} bash -c 'post {}' 2>/dev/null &
burst=$!
for _ in $(seq 1 600); do
	[ "$(wc -l <"$W/acked")" -ge 100 ] && break
	sleep 0.05
done
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
kill "$burst" 2>/dev/null; wait "$burst" 2>/dev/null
sleep 0.5 # posts in flight finish (their connections were reset)
acked=$(sort -u "$W/acked" | wc -l)
[ "$acked" -ge 100 ] || die "only $acked tickets acknowledged before the kill"
[ "$acked" -lt "$N" ] || die "the burst finished before the kill ($acked acknowledged)"
echo "ok server killed with SIGKILL during a burst of POSTs"
sort -u "$W/acked" >"$W/acked.s"
sqlite3 "$W/db" "SELECT ticket_id FROM decisions WHERE ticket_id LIKE 'K-%'" | sort -u >"$W/stored"
missing=$(comm -23 "$W/acked.s" "$W/stored" | wc -l)
[ "$missing" = 0 ] || die "$missing acknowledged tickets missing: $(comm -23 "$W/acked.s" "$W/stored" | head -5 | tr '\n' ' ')"
echo "ok every acknowledged ticket is in the database"
"$SOPGATE" audit verify --db "$W/db" >"$W/verify" 2>&1 || die "audit verify: $(cat "$W/verify")"
echo "ok audit chain verifies after the kill"
