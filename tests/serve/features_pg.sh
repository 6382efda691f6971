#!/usr/bin/env bash
# features_pg.sh - the helpdesk webhooks, the shadow policy and onboarding
# reviewers on PostgreSQL (one `sopgate serve --store postgres://...`): a
# signed Zendesk delivery decided once, a shadow difference recorded and
# listed, an onboarding reviewer's send held for a peer and released by one,
# and the audit chains verifying. Needs $SOPGATE_TEST_PG (tests/run starts
# a server); exit 77 without it.
. "$(dirname "$0")/common.sh"
[ -n "${SOPGATE_TEST_PG:-}" ] || { echo "skip: no PostgreSQL (SOPGATE_TEST_PG)"; exit 77; }
db=sgt_features_$$
psql -qtA "$SOPGATE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
	>/dev/null 2>&1 || die "cannot create database $db"
URL=${SOPGATE_TEST_PG%/*}/$db
q() { psql -qtA "$URL" -c "$1"; }
cleanup_pg() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	psql -qtA "$SOPGATE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup_pg EXIT
make_policy
python3 - "$W/acme/policy.yaml" "$W/acme/shadow.yaml" <<'PY' || die "cannot write the candidate"
import sys
s = open(sys.argv[1]).read()
cut = "    - name: test-two-step\n      gate: two_step\n      when: contains(draft.text, \"TWOSTEP\")\n"
if cut not in s: sys.exit("rule not found")
open(sys.argv[2], "w").write(s.replace(cut, "", 1))
PY
TOKEN_nia=$("$SOPGATE" user add nia --role agent --onboarding --store "$URL" 2>/dev/null | grep -o 'sgt_[0-9a-f]*') || die "user add nia"
TOKEN_alice=$("$SOPGATE" user add alice --role agent --store "$URL" 2>/dev/null | grep -o 'sgt_[0-9a-f]*') || die "user add alice"
ZS=zd-secret-$$-$RANDOM
: >"$W/log"
SOPGATE_ZENDESK_SECRET=$ZS "$SOPGATE" serve --policy "$W/acme/policy.yaml" --store "$URL" --worker pgw \
	--listen 127.0.0.1:0 --console none --shadow "$W/acme/shadow.yaml" 2>>"$W/log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
	PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$W/log" | tail -n 1)
	[ -n "$PORT" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || die "server exited at start"
	sleep 0.1
done
[ -n "$PORT" ] || die "server did not start"
BASE=http://127.0.0.1:$PORT
echo "ok serve on PostgreSQL with a shadow policy and a webhook secret"

ZD='{"type":"zen:event-type:ticket.created","id":"pg-evt-1","time":"2024-05-01T12:00:00Z","detail":{"id":"77","subject":"Login","description":"How do I reset my password?","requester_id":"9","via":{"channel":"email"}}}'
ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sig=$(printf '%s%s' "$ts" "$ZD" | openssl dgst -sha256 -hmac "$ZS" -binary | base64 -w0)
for want in 201 200; do
	STATUS=$(curl -s -o "$W/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "X-Zendesk-Webhook-Signature: $sig" -H "X-Zendesk-Webhook-Signature-Timestamp: $ts" \
		--data-binary "$ZD" "$BASE/v1/webhooks/zendesk"); RESP=$(cat "$W/resp")
	expect "$want" "zendesk delivery answered $want" .helpdesk_ticket_id zendesk-77
done
[ "$(q "SELECT count(*) FROM decisions WHERE ticket_id = 'zendesk-77'")" = 1 ] || die "zendesk: not one decision"
echo "ok the duplicate delivery stored nothing"

req POST /v1/tickets "$TOKEN_alice" '{"id":"P-1","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-1","tier":"paid"},"draft":{"text":"Hello TWOSTEP, use the reset link."}}'
expect 201 "a ticket the shadow decides differently" .gate two_step
req GET /v1/shadow "$TOKEN_alice"
expect 200 "the shadow difference is listed" '"\(.summary.differing) \(.diffs[0].ticket_id) \(.diffs[0].fields.gate.shadow)"' "1 P-1 agent_review"

req POST /v1/tickets "$TOKEN_alice" '{"id":"P-2","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-2","tier":"paid"},"draft":{"text":"Hello, use the reset link."}}'
expect 201 "a ticket for the onboarding reviewer" .gate agent_review
req POST /v1/tickets/P-2/approve "$TOKEN_nia"; expect 200 "the trainee's send is held for a peer" .status awaiting_second
req GET /v1/queue "$TOKEN_alice"; expect 200 "the queue shows it waiting" '.items[] | select(.ticket_id == "P-2") | .status' awaiting_second
req POST /v1/tickets/P-2/approve "$TOKEN_alice"; expect 200 "a peer releases it" '"\(.step) \(.status)"' "2 approved"
[ "$(q "SELECT user_name FROM peer_reviews")" = nia ] || die "peer_reviews on PostgreSQL"
[ "$(q "SELECT onboarding_tickets FROM users WHERE name = 'nia'")" = 1 ] || die "onboarding count on PostgreSQL"
echo "ok the peer review and the send count are in PostgreSQL"
stop_server || die "stop"
"$SOPGATE" audit verify --store "$URL" >/dev/null 2>&1 || die "audit verify: $("$SOPGATE" audit verify --store "$URL" 2>&1 | tail -3)"
echo "ok audit chains verify"
