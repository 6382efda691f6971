#!/usr/bin/env bash
# outbox.sh - `sopgate serve` delivers the outbox in the background: a
# decision's actions go to the policy's connectors; an action that cannot
# be delivered becomes a dead letter that is logged as an alert, counted in
# /metrics, listed by GET /v1/outbox (leads and admins) and by
# `sopgate outbox list`, and audited.
. "$(dirname "$0")/common.sh"
make_policy
# a webhook that records every decision, pointed at a port nobody listens
# on, allowed one attempt: each decision's record action dies at once
cat >>"$W/acme/policy.yaml" <<'YAML'

connectors:
  hook: {type: webhook, base_url: 'http://127.0.0.1:9/hook', secret_env: SG_OUTBOX_TEST_SECRET,
         record: true, max_attempts: 1, timeout: 2s}
outbox: {poll: 1s}
YAML
export SG_OUTBOX_TEST_SECRET=s3cret
"$SOPGATE" check "$W/acme/policy.yaml" >/dev/null 2>&1 || die "policy with connectors has errors"
add_user alice agent
add_user lena lead
start_server
grep -q "delivering the outbox through 1 connector" "$W/log" || die "no outbox worker started"
echo "ok serve starts the outbox worker"
req POST /v1/tickets "$TOKEN_alice" '{"id":"OB-1","body":"Where is my order ACME-1?","customer":{"id":"C-1","tier":"paid"}}'
expect 201 "ticket accepted"
for _ in $(seq 1 100); do
	grep -q "ALERT: action .*(record, ticket OB-1) via hook is a dead letter" "$W/log" && break
	sleep 0.1
done
grep -q "ALERT: action .*(record, ticket OB-1) via hook is a dead letter after 1 attempt(s): no response" "$W/log" ||
	die "no dead-letter alert in the log"
echo "ok the undeliverable action is a dead letter, logged as an alert"
for _ in $(seq 1 50); do
	curl -s "$BASE/metrics" >"$W/metrics"
	grep -q '^sopgate_outbox_dead [1-9]' "$W/metrics" && break
	sleep 0.2
done
grep -q '^sopgate_outbox_dead [1-9]' "$W/metrics" || die "metrics: sopgate_outbox_dead not counted"
grep -q '^sopgate_outbox_deliveries_total{connector="hook",outcome="dead"} 1$' "$W/metrics" ||
	die "metrics: no dead delivery for connector hook"
grep -q '^# TYPE sopgate_outbox_pending gauge$' "$W/metrics" || die "metrics: no pending gauge"
grep -q '^sopgate_outbox_delivery_duration_seconds_count{connector="hook"} 1$' "$W/metrics" ||
	die "metrics: no delivery duration"
echo "ok /metrics counts the dead letter (gauge, deliveries by connector and outcome)"
req GET "/v1/outbox" "$TOKEN_lena"
expect 200 "GET /v1/outbox lists dead letters" '[.items[] | select(.ticket_id == "OB-1" and .kind == "record")] | length' 1
req GET "/v1/outbox" "$TOKEN_alice"
expect 403 "GET /v1/outbox is for leads and admins"
"$SOPGATE" outbox list --state dead --db "$W/db" 2>/dev/null | grep -q ' dead .* record .* OB-1 ' ||
	die "outbox list: no dead letter for OB-1"
echo "ok sopgate outbox list shows it"
sqlite3 "$W/db" "SELECT COUNT(*) FROM audit WHERE action = 'outbox.dead' AND ticket_id = 'OB-1'" | grep -qx 1 ||
	die "no outbox.dead audit record"
# the console page, when a browser is installed (tests/serve/console.sh
# covers the rest of the console)
if [ -x /usr/bin/chromium ] && command -v node >/dev/null &&
	[ -d "$top/tests/console/node_modules/playwright-core" ]; then
	out=$(cd "$top/tests/console" && timeout 120 node outbox_test.mjs "$BASE" "$TOKEN_lena" OB-1 2>&1) ||
		die "console outbox page: $out"
	printf '%s\n' "$out" | grep -q '^ok the dead letter of OB-1 is listed' || die "console: $out"
fi
echo "ok the console shows it (when a browser is installed)"
stop_server || die "server did not stop cleanly"
"$SOPGATE" audit verify --db "$W/db" >"$W/verify" 2>&1 || die "audit verify: $(cat "$W/verify")"
echo "ok the dead letter is audited and the chain verifies"
