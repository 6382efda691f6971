#!/usr/bin/env bash
# api.sh - `sopgate serve` over real HTTP on loopback: tickets (201, retry
# idempotent), errors naming the field, auth and roles, the queue, the
# ticket view, approve/edit/reject with the two_step and loop rules, audit,
# policy reload (HTTP and SIGHUP, bad policy refused), metrics, stop, and
# the audit chain verifying afterwards. Prints one "ok" line per check.
. "$(dirname "$0")/common.sh"
make_policy
add_user alice agent; add_user erin agent; add_user bob lead; add_user dave admin
start_server --seed "$top/examples/acme/tickets.jsonl"
grep -q 'seeded 30 new ticket events' "$W/log" || die "seed: $(cat "$W/log")"
echo "ok seed 30 example tickets"

req GET /healthz ""; expect 200 healthz
T1='{"id":"T-A","event_id":"e1","channel":"chat","body":"How do I reset my password?","customer":{"id":"C-2","tier":"paid"},"draft":{"text":"Hello, use the reset link on the sign-in page."}}'
req POST /v1/tickets "" "$T1"; expect 401 "post without a token" .error.code unauthorized
req POST /v1/tickets "sgt_0000000000000000000000000000000000000000000000000000000000000000" "$T1"
expect 401 "post with a wrong token" .error.code unauthorized
req POST /v1/tickets "$TOKEN_alice" '{"id":"T-A",'; expect 400 "malformed JSON" .error.code invalid_json
req POST /v1/tickets "$TOKEN_alice" '{"id":"T-A","body":5}'
expect 400 "body of the wrong type names the field" '.error.message | test("body")' true
req POST /v1/tickets "$TOKEN_alice" '{"body":"hi"}'
expect 400 "missing id names the field" '.error.message | test("id")' true
req POST /v1/tickets "$TOKEN_alice" '[1]'; expect 400 "array body refused" .error.code invalid_json

req POST /v1/tickets "$TOKEN_alice" "$T1"; expect 201 "post a ticket" .gate agent_review
trace=$(printf '%s' "$RESP" | jq -r .ai_trace_id)
req POST /v1/tickets "$TOKEN_alice" "$T1"; expect 200 "retry returns the stored decision" .ai_trace_id "$trace"
n=$(sqlite3 "$W/db" "SELECT (SELECT count(*) FROM decisions WHERE ticket_id='T-A') || ' ' || (SELECT count(*) FROM ticket_events WHERE ticket_id='T-A') || ' ' || (SELECT count(*) FROM audit WHERE ticket_id='T-A')")
[ "$n" = "1 1 1" ] || die "retry: decisions/events/audit rows for T-A = $n, expected 1 1 1"
echo "ok retry creates nothing (one decision, one event, one audit record)"

req GET "/v1/queue" "$TOKEN_alice"; expect 200 "queue" '[.items[].ticket_id] | index("T-A") != null' true
req GET "/v1/queue?gate=agent_review&queue=$(printf '%s' "$RESP" | jq -r '.items[] | select(.ticket_id=="T-A") | .queue')" "$TOKEN_alice"
expect 200 "queue filtered by gate and queue" '[.items[] | select(.gate != "agent_review")] | length' 0
req GET "/v1/queue?gate=no_such_gate" "$TOKEN_alice"; expect 200 "queue with an unknown gate is empty" .count 0
req GET "/v1/queue?due_within=abc" "$TOKEN_alice"; expect 400 "bad due_within named" '.error.message | test("due_within")' true
req GET /v1/queue ""; expect 401 "queue without a token" .error.code unauthorized

req GET /v1/tickets/T-A "$TOKEN_alice"; expect 200 "ticket view" '.status + " " + (.decisions|length|tostring) + " " + (.audit|length|tostring)' "pending 1 1"
req GET /v1/tickets/NOPE "$TOKEN_alice"; expect 404 "unknown ticket" .error.code not_found
req POST /v1/tickets/NOPE/approve "$TOKEN_alice"; expect 404 "approve an unknown ticket" .error.code not_found

req POST /v1/tickets/T-A/approve "$TOKEN_alice" '{"note":"looks right"}'; expect 200 "approve" .status approved
req POST /v1/tickets/T-A/approve "$TOKEN_bob"; expect 409 "approve twice" .error.code conflict
req GET /v1/queue "$TOKEN_alice"; expect 200 "approved ticket leaves the queue" '[.items[].ticket_id] | index("T-A")' null
req POST /v1/tickets/T-A/approve "" ""; expect 401 "approve without a token" .error.code unauthorized

T2='{"id":"T-B","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-3","tier":"paid"},"draft":{"text":"Hello TWOSTEP, use the reset link."}}'
req POST /v1/tickets "$TOKEN_alice" "$T2"; expect 201 "two_step ticket" .gate two_step
req POST /v1/tickets/T-B/approve "$TOKEN_alice"; expect 200 "two_step first approval" '(.step|tostring) + " " + .status' "1 awaiting_second"
req POST /v1/tickets/T-B/approve "$TOKEN_alice"; expect 403 "two_step: same user twice refused" '.error.message | test("different user")' true
req POST /v1/tickets/T-B/approve "$TOKEN_erin"; expect 403 "two_step: second approver below lead refused" '.error.message | test("lead")' true
req POST /v1/tickets/T-B/approve "$TOKEN_bob"; expect 200 "two_step second approval by a lead" '(.step|tostring) + " " + .status' "2 approved"
n=$(sqlite3 "$W/db" "SELECT group_concat(user_name || ':' || step, ',') FROM (SELECT user_name, step FROM approvals WHERE ticket_id='T-B' ORDER BY created_at)")
[ "$n" = "alice:1,bob:2" ] || die "two_step approvals stored: $n"
echo "ok two_step approvals stored (alice step 1, bob step 2)"

T3='{"id":"T-C","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-4","tier":"paid"},"draft":{"text":"Hello,\nuse the reset link.\nThanks"}}'
req POST /v1/tickets "$TOKEN_alice" "$T3"; expect 201 "ticket to edit"
req POST /v1/tickets/T-C/edit "$TOKEN_alice" '{"note":"x"}'; expect 400 "edit without text names the field" '.error.message | test("text")' true
req POST /v1/tickets/T-C/edit "$TOKEN_alice" '{"text":"Hello,\nuse the link we sent to card 4111 1111 1111 1111.\nThanks"}'
expect 200 "edit keeps a diff" '.diff | test("^@@ -2,1 \\+2,1 @@\n-use the reset link.\n\\+use the link")' true
printf '%s' "$RESP" | grep -q 4111 && die "edit echoed a raw card number"
echo "ok edited draft is masked"
req GET /v1/tickets/T-C "$TOKEN_alice"; expect 200 "edit stored as a draft version" '.drafts | length' 1

T4='{"id":"T-D","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-5","tier":"paid"},"draft":{"text":"Hello, use the reset link."}}'
req POST /v1/tickets "$TOKEN_alice" "$T4"; expect 201 "ticket to reject"
req POST /v1/tickets/T-D/reject "$TOKEN_alice" '{"note":"wrong tone"}'; expect 200 "first rejection" '.status' pending
req POST /v1/tickets/T-D/reject "$TOKEN_erin"; expect 200 "second rejection escalates" '.status + " " + (.escalation_id != null|tostring)' "escalated true"
req POST /v1/tickets/T-D/approve "$TOKEN_bob"; expect 409 "escalated ticket cannot be approved" .error.code conflict
req GET /v1/tickets/T-D "$TOKEN_alice"; expect 200 "escalation recorded" '.escalations[0].state + " " + .escalations[0].reason' "open draft rejected twice"
req GET "/v1/audit?ticket=T-D" "$TOKEN_alice"; expect 200 "audit trail of a ticket" '[.records[].action] | join(",")' "decision,reject,reject,escalate"
sqlite3 "$W/db" "PRAGMA busy_timeout=10000; UPDATE escalations SET due_at = 1 WHERE ticket_id = 'T-D'" >/dev/null ||
	die "cannot move the escalation's due time"
for _ in $(seq 1 100); do
	req GET /v1/tickets/T-D "$TOKEN_alice"
	[ "$(printf '%s' "$RESP" | jq '.escalations | length')" = 2 ] && break
	sleep 0.1
done
expect 200 "an SLA breach escalates to the next level" '[.escalations[] | "\(.level):\(.state)"] | join(",")' "1:breached,2:open"
req GET "/v1/audit?ticket=T-D" "$TOKEN_alice"; expect 200 "the breach is audited" '[.records[].action] | join(",")' "decision,reject,reject,escalate,escalate"
req GET "/v1/audit" "$TOKEN_alice"; expect 400 "audit without a ticket" '.error.message | test("ticket")' true

req POST /v1/policy/reload "$TOKEN_alice"; expect 403 "reload needs admin" .error.code forbidden
req POST /v1/policy/reload "$TOKEN_dave"; expect 200 "reload by an admin" .status reloaded
cp "$W/acme/policy.yaml" "$W/policy.good"
printf 'gates:\n  default: nonsense_gate\n' >>"$W/acme/policy.yaml"
req POST /v1/policy/reload "$TOKEN_dave"; expect 422 "a policy with errors is refused" '.error.message | test("previous one stays")' true
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do grep -q 'reload refused' "$W/log" && break; sleep 0.1; done
grep -q 'reload refused, the previous policy stays' "$W/log" || die "SIGHUP with a bad policy: no refusal logged"
echo "ok SIGHUP with a bad policy is refused"
req POST /v1/tickets "$TOKEN_alice" '{"id":"T-E","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-6","tier":"paid"},"draft":{"text":"Hello TWOSTEP"}}'
expect 201 "the old policy still decides" .gate two_step
cp "$W/policy.good" "$W/acme/policy.yaml"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do grep -q 'policy reloaded' "$W/log" && break; sleep 0.1; done
grep -q 'policy reloaded' "$W/log" || die "SIGHUP with a good policy: not reloaded"
echo "ok SIGHUP reloads a good policy"

curl -s "$BASE/metrics" >"$W/metrics" || die "metrics"
for m in 'sopgate_decisions_total{gate="two_step",tier="low"} 2' 'sopgate_queue_depth{' \
	 'sopgate_ticket_seconds_bucket{le="+Inf"}' 'sopgate_human_actions_total{action="reject"} 2' \
	 'sopgate_policy_reloads_total{result="refused"} 1' 'sopgate_guardrail_hits_total' \
	 'sopgate_sla_breaches_total{level="1"} 1'; do
	grep -qF "$m" "$W/metrics" || die "metrics: no '$m'"
done
echo "ok metrics (decisions, queue depth, latency, human actions, reloads, guardrails, SLA breaches)"

stop_server || die "server exit status on SIGTERM"
grep -q 'SIGTERM, stopping' "$W/log" || die "no graceful stop"
echo "ok SIGTERM stops gracefully"
"$SOPGATE" audit verify --db "$W/db" >/dev/null 2>&1 || die "audit verify: $("$SOPGATE" audit verify --db "$W/db" 2>&1)"
echo "ok audit chain verifies"

# a new database without users: serve creates an admin and prints its token once
: >"$W/log2"; : >"$W/log3"
"$SOPGATE" serve --policy "$W/acme/policy.yaml" --db "$W/db2" --listen 127.0.0.1:0 --console none \
	>"$W/out2" 2>"$W/log2" &
SERVER_PID=$!
for _ in $(seq 1 300); do grep -q 'listening on' "$W/log2" && break; sleep 0.1; done
BASE=http://127.0.0.1:$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$W/log2")
tok=$(grep -x 'sgt_[0-9a-f]\{64\}' "$W/out2") || die "first start printed no admin token: $(cat "$W/out2" "$W/log2")"
req POST /v1/policy/reload "$tok"; expect 200 "first start creates an admin and prints its token" .status reloaded
grep -qF "$tok" "$W/db2" && die "the admin token is stored in clear"
stop_server || die "stop"
: >"$W/log2"; : >"$W/log3"
"$SOPGATE" serve --policy "$W/acme/policy.yaml" --db "$W/db2" --listen 127.0.0.1:0 --console none \
	>"$W/out3" 2>"$W/log3" &
SERVER_PID=$!
for _ in $(seq 1 300); do grep -q 'listening on' "$W/log3" && break; sleep 0.1; done
stop_server || die "stop"
[ -s "$W/out3" ] && die "second start printed a token again"
echo "ok a second start creates no user"
