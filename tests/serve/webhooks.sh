#!/usr/bin/env bash
# webhooks.sh - POST /v1/webhooks/zendesk and /intercom over real HTTP on
# loopback, signed with openssl (not with sopgate's own signer): a valid
# delivery decides the ticket like POST /v1/tickets, a duplicate delivery
# returns the stored decision and writes nothing, a wrong secret and a stale
# timestamp are refused, a malformed payload gets an error naming the field,
# events without a customer message are acknowledged and skipped. The
# Zendesk secret's variable comes from the policy, Intercom's from a flag.
. "$(dirname "$0")/common.sh"
make_policy
add_user alice agent

# zd_post BODY SECRET [TIMESTAMP] / ic_post BODY SECRET
zd_post() {
	local body=$1 secret=$2 ts=${3:-$(date -u +%Y-%m-%dT%H:%M:%SZ)} sig
	sig=$(printf '%s%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$secret" -binary | base64 -w0)
	STATUS=$(curl -s -o "$W/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "X-Zendesk-Webhook-Signature: $sig" -H "X-Zendesk-Webhook-Signature-Timestamp: $ts" \
		--data-binary "$body" "$BASE/v1/webhooks/zendesk") || die "curl zendesk"
	RESP=$(cat "$W/resp")
}
ic_post() {
	local body=$1 secret=$2 sig
	sig=sha1=$(printf '%s' "$body" | openssl dgst -sha1 -hmac "$secret" | sed 's/^.*= //')
	STATUS=$(curl -s -o "$W/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "X-Hub-Signature: $sig" --data-binary "$body" "$BASE/v1/webhooks/intercom") ||
		die "curl intercom"
	RESP=$(cat "$W/resp")
}

ZD='{"type":"zen:event-type:ticket.comment_added","account_id":1000001,"id":"0b6f1c1e-0000-4000-8000-000000000001","time":"2024-05-01T12:00:00Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:4321","detail":{"id":"4321","subject":"Cannot log in","status":"OPEN","priority":"HIGH","requester_id":"9001","tags":["vip"],"via":{"channel":"web"},"is_public":true},"event":{"comment":{"id":"777","body":"How do I reset my password? It is still broken.","is_public":true,"author":{"id":"9001","is_staff":false,"name":"A Customer"}}}}'
IC='{"type":"notification_event","id":"notif_00000000-0000-4000-8000-000000000001","topic":"conversation.user.replied","app_id":"abc123de","created_at":1714564800,"delivery_attempts":1,"first_sent_at":1714564800,"data":{"type":"notification_event_data","item":{"type":"conversation","id":"123456","state":"open","source":{"type":"conversation","id":"403918269","body":"<p>Hi</p>","author":{"type":"user","id":"u1"}},"conversation_parts":{"type":"conversation_part.list","total_count":1,"conversation_parts":[{"type":"conversation_part","id":"9","part_type":"comment","body":"<p>How do I reset my password?</p>","created_at":1714564800,"author":{"type":"user","id":"u1","name":"A","email":"a@example.com"}}]}}}}'
ZS=zd-secret-$$-$RANDOM
IS=ic-secret-$$-$RANDOM

# no secret in the environment: both endpoints say what to set
unset SOPGATE_ZENDESK_SECRET SOPGATE_INTERCOM_SECRET TEST_IC_SECRET
start_server --intercom-secret-env TEST_IC_SECRET
zd_post "$ZD" "$ZS"; expect 404 "zendesk without a secret names the variable" '.error.message | test("SOPGATE_ZENDESK_SECRET")' true
ic_post "$IC" "$IS"; expect 404 "intercom without a secret names the variable" '.error.message | test("TEST_IC_SECRET")' true
stop_server || die "stop"

SOPGATE_ZENDESK_SECRET=$ZS TEST_IC_SECRET=$IS start_server --intercom-secret-env TEST_IC_SECRET
zd_post "$ZD" "$ZS"; expect 201 "zendesk comment decided" .helpdesk_ticket_id zendesk-4321
trace=$(printf '%s' "$RESP" | jq -r .ai_trace_id)
zd_post "$ZD" "$ZS"; expect 200 "zendesk duplicate delivery returns the stored decision" .ai_trace_id "$trace"
n=$(sqlite3 "$W/db" "SELECT (SELECT count(*) FROM decisions WHERE ticket_id='zendesk-4321') || ' ' || (SELECT count(*) FROM ticket_events WHERE ticket_id='zendesk-4321' AND event_id='0b6f1c1e-0000-4000-8000-000000000001') || ' ' || (SELECT count(*) FROM audit WHERE ticket_id='zendesk-4321')")
[ "$n" = "1 1 1" ] || die "zendesk duplicate: decisions/events/audit = $n, expected 1 1 1"
echo "ok zendesk duplicate writes nothing (one decision, one event, one audit record)"
req GET /v1/tickets/zendesk-4321 "$TOKEN_alice"
expect 200 "zendesk ticket in the store, masked, priority mapped" '.events[0].event.priority + " " + .events[0].event.channel + " " + (.events[0].event.text | test("reset my password") | tostring)' "P1 email true"
zd_post "$ZD" "wrong-$ZS"; expect 401 "zendesk wrong secret refused" '.error.message | test("X-Zendesk-Webhook-Signature")' true
zd_post "$ZD" "$ZS" 2024-05-01T12:00:00Z; expect 401 "zendesk stale timestamp refused" '.error.message | test("timestamp")' true
zd_post "${ZD/\"detail\":\{\"id\":\"4321\",/\"detail\":\{}" "$ZS"; expect 400 "zendesk payload without detail.id names the field" '.error.message | test("detail.id")' true
zd_post '{"type":"zen:event-type:ticket.comment_added","id":"x2",' "$ZS"; expect 400 "zendesk malformed JSON" .error.code invalid_json
zd_post "${ZD/\"is_staff\":false/\"is_staff\":true}" "$ZS"; expect 202 "zendesk agent comment acknowledged, not decided" .status ignored
zd_post '{"type":"zen:event-type:ticket.status_changed","id":"e-status","detail":{"id":"4321"}}' "$ZS"; expect 202 "zendesk status change skipped with a reason" '.reason | test("status_changed")' true
STATUS=$(curl -s -o "$W/resp" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$ZD" "$BASE/v1/webhooks/zendesk"); RESP=$(cat "$W/resp")
expect 401 "zendesk without a signature refused" '.error.message | test("missing")' true

ic_post "$IC" "$IS"; expect 201 "intercom reply decided" .helpdesk_ticket_id intercom-123456
trace=$(printf '%s' "$RESP" | jq -r .ai_trace_id)
ic_post "$IC" "$IS"; expect 200 "intercom duplicate delivery returns the stored decision" .ai_trace_id "$trace"
n=$(sqlite3 "$W/db" "SELECT count(*) FROM decisions WHERE ticket_id='intercom-123456'")
[ "$n" = 1 ] || die "intercom duplicate: $n decisions"
echo "ok intercom duplicate writes nothing"
req GET /v1/tickets/intercom-123456 "$TOKEN_alice"
expect 200 "intercom body is plain text, the email masked" '.events[0].event.text | (test("<p>") | not) and test("reset my password")' true
ic_post "$IC" "wrong-$IS"; expect 401 "intercom wrong secret refused" '.error.message | test("X-Hub-Signature")' true
ic_post "${IC/\"id\":\"123456\",/}" "$IS"; expect 400 "intercom payload without data.item.id names the field" '.error.message | test("data.item.id")' true
ic_post "${IC/conversation.user.replied/conversation.admin.replied}" "$IS"; expect 202 "intercom admin reply skipped" .status ignored

grep -qF "$ZS" "$W/db" "$W/log" && die "the zendesk secret reached the database or the log"
grep -qF "$IS" "$W/db" "$W/log" && die "the intercom secret reached the database or the log"
grep -q 'a@example.com' "$W/db" && die "the intercom author's email reached the database"
echo "ok no secret or raw email in the database or the log"
curl -s "$BASE/metrics" >"$W/metrics" || die metrics
for m in 'sopgate_webhook_events_total{vendor="zendesk",result="accepted"} 1' \
	 'sopgate_webhook_events_total{vendor="zendesk",result="duplicate"} 1' \
	 'sopgate_webhook_events_total{vendor="zendesk",result="refused"} 3' \
	 'sopgate_webhook_events_total{vendor="intercom",result="accepted"} 1' \
	 'sopgate_webhook_events_total{vendor="intercom",result="ignored"} 1'; do
	grep -qF "$m" "$W/metrics" || die "metrics: no '$m'"
done
echo "ok webhook metrics by vendor and result"
stop_server || die "stop"
"$SOPGATE" audit verify --db "$W/db" >/dev/null 2>&1 || die "audit verify"
echo "ok audit chain verifies"
