#!/usr/bin/env bash
# shadow.sh - a shadow policy over real HTTP on loopback: `serve --shadow`
# decides every ticket under a candidate beside the live policy; the
# differences (gate, rules fired under only one) are listed by
# GET /v1/shadow and counted in /metrics; decisions and the outbox are the
# same as without it; a candidate with errors is refused and the previous
# one stays; set and clear over the API are admin-only and audited.
. "$(dirname "$0")/common.sh"
make_policy
add_user alice agent; add_user dave admin
# the candidate drops the rule that sends TWOSTEP drafts to two_step
python3 - "$W/acme/policy.yaml" "$W/acme/shadow.yaml" <<'PY' || die "cannot write the candidate"
import sys
s = open(sys.argv[1]).read()
cut = "    - name: test-two-step\n      gate: two_step\n      when: contains(draft.text, \"TWOSTEP\")\n"
if cut not in s: sys.exit("rule not found")
open(sys.argv[2], "w").write(s.replace(cut, "", 1))
PY
cp "$W/acme/policy.yaml" "$W/acme/shadow-bad.yaml"
printf 'gates:\n  default: nonsense_gate\n' >>"$W/acme/shadow-bad.yaml"
mkdir -p "$W/elsewhere"; cp "$W/acme/shadow.yaml" "$W/elsewhere/shadow.yaml"

"$SOPGATE" serve --policy "$W/acme/policy.yaml" --db "$W/db0" --listen 127.0.0.1:0 \
	--shadow "$W/acme/shadow-bad.yaml" >/dev/null 2>"$W/log0" && die "serve started with a bad shadow policy"
grep -q 'shadow policy refused' "$W/log0" || die "bad --shadow: $(cat "$W/log0")"
echo "ok serve refuses a --shadow policy with errors"

start_server --shadow "$W/acme/shadow.yaml"
S1='{"id":"T-S1","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-1","tier":"paid"},"draft":{"text":"Hello TWOSTEP, use the reset link."}}'
S2='{"id":"T-S2","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-2","tier":"paid"},"draft":{"text":"Hello, use the reset link."}}'
req POST /v1/tickets "$TOKEN_alice" "$S1"; expect 201 "live policy decides with a shadow set" .gate two_step
live1=$(printf '%s' "$RESP" | jq -c '[.gate, .risk_tier, .escalated, [.reasons[].rule], .guardrail_types]')
req POST /v1/tickets "$TOKEN_alice" "$S2"; expect 201 "a ticket both policies decide alike" .gate agent_review
E='"body":"My account was hacked and I will contact my lawyer.","customer":{"id":"C-9","tier":"enterprise"},"draft":{"text":"Hello, we are looking into it."}}'
req POST /v1/tickets "$TOKEN_alice" "{\"id\":\"T-E1\",\"event_id\":\"e1\",$E"; expect 201 "an escalating ticket with the shadow set" .escalated true
esc1=$(printf '%s' "$RESP" | jq -c '[.gate, .escalation, [.reasons[].rule]]')
req POST /v1/tickets "$TOKEN_alice" "$S1"; expect 200 "a retry is not evaluated again"
req GET /v1/shadow "$TOKEN_alice"
expect 200 "shadow summary counts evaluated and differing tickets" '"\(.summary.evaluated) \(.summary.differing) \(.summary.by_field.gate)"' "3 1 1"
expect 200 "the shadow is described" '.shadow.path | endswith("shadow.yaml")' true
expect 200 "per-ticket diff: the gate under each policy" '.diffs[0].ticket_id + " " + .diffs[0].fields.gate.live + " " + .diffs[0].fields.gate.shadow' "T-S1 two_step agent_review"
expect 200 "per-ticket diff: the rule that fired under the live policy only" '.diffs[0].fields.rules.live_only | split(",") | index("test-two-step") != null' true
shadow_v=$(printf '%s' "$RESP" | jq -r .shadow.version)
n=$(sqlite3 "$W/db" "SELECT count(*) FROM shadow_diffs WHERE ticket_id='T-S2'")
[ "$n" = 0 ] || die "a ticket decided alike left $n diff rows"
echo "ok no diff stored for a ticket decided alike"

req POST /v1/shadow "$TOKEN_alice" '{"policy":"shadow.yaml"}'; expect 403 "setting a shadow needs admin" .error.code forbidden
req POST /v1/shadow "$TOKEN_dave" '{"policy":"shadow-bad.yaml"}'
expect 422 "a shadow policy with errors is refused" '.error.message | test("previous one stays")' true
req GET /v1/shadow "$TOKEN_alice"; expect 200 "the previous shadow stays" .shadow.version "$shadow_v"
req POST /v1/shadow "$TOKEN_dave" "{\"policy\":\"$W/elsewhere/shadow.yaml\"}"
expect 403 "a shadow outside the policy folder is refused" '.error.message | test("folder")' true
req POST /v1/shadow "$TOKEN_dave" '{"policy":"nope.yaml"}'; expect 404 "a missing shadow file" '.error.message | test("policy")' true
req POST /v1/shadow "$TOKEN_dave" '{}'; expect 400 "the policy field is required" '.error.message | test("policy")' true

req DELETE /v1/shadow "$TOKEN_dave"; expect 200 "clear the shadow" .last_version "$shadow_v"
req DELETE /v1/shadow "$TOKEN_dave"; expect 409 "clear twice" .error.code conflict
S3='{"id":"T-S3","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-1","tier":"paid"},"draft":{"text":"Hello TWOSTEP, use the reset link."}}'
req POST /v1/tickets "$TOKEN_alice" "$S3"; expect 201 "the same ticket without a shadow"
live3=$(printf '%s' "$RESP" | jq -c '[.gate, .risk_tier, .escalated, [.reasons[].rule], .guardrail_types]')
[ "$live1" = "$live3" ] || die "the decision differs with a shadow set: $live1 vs $live3"
req POST /v1/tickets "$TOKEN_alice" "{\"id\":\"T-E2\",\"event_id\":\"e1\",$E"; expect 201 "the escalating ticket without a shadow"
esc2=$(printf '%s' "$RESP" | jq -c '[.gate, .escalation, [.reasons[].rule]]')
[ "$esc1" = "$esc2" ] || die "the escalation differs with a shadow set: $esc1 vs $esc2"
o=$(sqlite3 "$W/db" "SELECT (SELECT group_concat(kind, ',') FROM (SELECT kind FROM outbox WHERE ticket_id='T-E1' ORDER BY kind)) || ' ' || (SELECT group_concat(kind, ',') FROM (SELECT kind FROM outbox WHERE ticket_id='T-E2' ORDER BY kind))")
[ -n "${o% *}" ] && [ "${o% *}" = "${o#* }" ] || die "outbox actions with and without the shadow: '$o'"
echo "ok decisions and outbox actions are the same with and without the shadow"
req GET /v1/shadow "$TOKEN_alice"
expect 200 "after clearing, the last shadow's results stay readable" '"\(.shadow) \(.summary.evaluated) \(.summary.version == "'"$shadow_v"'")"' "null 3 true"

req POST /v1/shadow "$TOKEN_dave" '{"policy":"shadow.yaml"}'; expect 200 "set the shadow over the API" .status shadowing
req POST /v1/tickets "$TOKEN_alice" '{"id":"T-S4","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-4","tier":"paid"},"draft":{"text":"TWOSTEP"}}'
expect 201 "another ticket"
req GET "/v1/shadow?limit=1" "$TOKEN_alice"; expect 200 "limit and newest first" '"\(.diffs | length) \(.diffs[0].ticket_id) \(.summary.evaluated)"' "1 T-S4 4"
req GET "/v1/shadow?limit=0" "$TOKEN_alice"; expect 400 "a bad limit is named" '.error.message | test("limit")' true

curl -s "$BASE/metrics" >"$W/metrics" || die metrics
for m in 'sopgate_shadow_evaluated_total 4' 'sopgate_shadow_tickets_differing_total 2' \
	 'sopgate_shadow_differences_total{field="gate"} 2' 'sopgate_shadow_differences_total{field="rules"} 2'; do
	grep -qF "$m" "$W/metrics" || die "metrics: no '$m'"
done
echo "ok shadow metrics"
n=$(sqlite3 "$W/db" "SELECT group_concat(action || ':' || actor, ',') FROM (SELECT action, actor FROM audit WHERE action LIKE 'shadow.%' ORDER BY created_at)")
[ "$n" = "shadow.set:serve,shadow.clear:dave,shadow.set:dave" ] || die "shadow audit records: $n"
echo "ok setting and clearing the shadow is audited"
stop_server || die "stop"
"$SOPGATE" audit verify --db "$W/db" >/dev/null 2>&1 || die "audit verify"
echo "ok audit chain verifies"
