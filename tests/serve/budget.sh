#!/usr/bin/env bash
# budget.sh - the day's AI sessions (budgets.max_sessions_per_day) are
# counted in the store: a restarted `sopgate serve` continues the count
# instead of starting a fresh budget.
. "$(dirname "$0")/common.sh"
make_policy
# two AI sessions a day; short tickets classified with low confidence still
# go to the drafter
sed -i -e 's/^  max_sessions_per_day: 500$/  max_sessions_per_day: 2/' \
	-e 's/^  min_confidence: 0.70 /  min_confidence: 0.01 /' "$W/acme/policy.yaml"
grep -q '^  max_sessions_per_day: 2$' "$W/acme/policy.yaml" &&
	grep -q '^  min_confidence: 0.01 ' "$W/acme/policy.yaml" || die "cannot set the budget"
add_user alice agent
ticket() {
	printf '{"id":"%s","event_id":"e1","body":"Where is my order ACME-1001? It has not arrived.","customer":{"id":"C-1","tier":"paid"}}' "$1"
}
start_server --kb "$W/acme/kb"
req POST /v1/tickets "$TOKEN_alice" "$(ticket B-1)"; expect 201 "first session of the day" .ai_mode draft_reply
req POST /v1/tickets "$TOKEN_alice" "$(ticket B-2)"; expect 201 "second session of the day" .ai_mode draft_reply
stop_server || die "stop"
start_server --kb "$W/acme/kb"
req POST /v1/tickets "$TOKEN_alice" "$(ticket B-3)"
expect 201 "after a restart the day's budget is still used up" .ai_mode summarize_only
printf '%s' "$RESP" | jq -e '[.reasons[] | select(.rule == "budgets.max_sessions_per_day")] | length == 1' \
	>/dev/null || die "no budget reason: $RESP"
echo "ok the decision names budgets.max_sessions_per_day"
grep -q 'ticket B-3: budgets.max_sessions_per_day: 2 AI sessions today: the budget is used up' "$W/log" ||
	die "no budget line in the log"
echo "ok the log says why"
stop_server || die "stop"
n=$(sqlite3 "$W/db" "SELECT SUM(value) FROM counters WHERE name LIKE 'budget.sessions:%'")
[ "$n" = 2 ] || die "counter is '$n', expected 2"
echo "ok the store holds the day's count"
