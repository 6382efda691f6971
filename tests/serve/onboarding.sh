#!/usr/bin/env bash
# onboarding.sh - onboarding reviewers over real HTTP on loopback: with
# onboarding.peer_review_first 2 and random_review_share 0%, a reviewer
# added with --onboarding has their first two sends held for a peer's
# second approval (a different reviewer who is not onboarding), the third
# goes out on their own approval; every such approval's audit record says
# why; rejects do not count; graduating (API or CLI) ends it; with a share
# of 100% a send after the first ones is drawn for peer review.
. "$(dirname "$0")/common.sh"
make_policy
set_onboarding() {
	python3 - "$W/acme/policy.yaml" "$1" "$2" <<'PY' || die "cannot set the onboarding numbers"
import re, sys
p, first, share = sys.argv[1], sys.argv[2], sys.argv[3]
s = open(p).read()
s, n = re.subn(r"onboarding:\n  peer_review_first: \d+\n  random_review_share: [0-9.]+%?\n",
               "onboarding:\n  peer_review_first: %s\n  random_review_share: %s\n" % (first, share), s)
if n != 1: sys.exit("onboarding section not found")
open(p, "w").write(s)
PY
}
set_onboarding 2 0%
"$SOPGATE" user add nia --role agent --onboarding --db "$W/db" >"$W/nia.tok" 2>"$W/nia.err" || die "user add --onboarding"
TOKEN_nia=$(grep -o 'sgt_[0-9a-f]*' "$W/nia.tok")
grep -q 'onboarding' "$W/nia.err" || die "user add --onboarding does not say so"
"$SOPGATE" user add lee --role lead --onboarding --db "$W/db" >"$W/lee.tok" 2>/dev/null || die "user add lee"
TOKEN_lee=$(grep -o 'sgt_[0-9a-f]*' "$W/lee.tok")
add_user alice agent; add_user bob lead; add_user dave admin
"$SOPGATE" user list --db "$W/db" | grep -q '^nia .* onboarding (0 sends)$' || die "user list: $("$SOPGATE" user list --db "$W/db")"
echo "ok user add --onboarding, shown by user list"
"$SOPGATE" user add x --role agent --onboarding 2>/dev/null; [ $? = 2 ] || die "usage error expected without --db"
"$SOPGATE" user graduate ghost --db "$W/db" 2>"$W/err"; [ $? = 1 ] && grep -q "ghost" "$W/err" || die "graduate an unknown user: $(cat "$W/err")"
echo "ok graduating an unknown user is an error naming it"

start_server
req GET /v1/me "$TOKEN_nia"; expect 200 "the reviewer sees their onboarding state" '"\(.onboarding) \(.onboarding_tickets) \(.peer_review_first)"' "true 0 2"
post() { req POST /v1/tickets "$TOKEN_alice" "{\"id\":\"$1\",\"event_id\":\"e1\",\"body\":\"How do I reset my password?\",\"customer\":{\"id\":\"C-$1\",\"tier\":\"paid\"},\"draft\":{\"text\":\"Hello, use the reset link.\"}}"; expect 201 "ticket $1" .gate agent_review; }
post O-1; post O-2; post O-3; post O-4

req POST /v1/tickets/O-1/approve "$TOKEN_nia" '{"note":"first one"}'
expect 200 "onboarding send 1: held for a peer" '"\(.step) \(.status) \(.onboarding.peer_review_required)"' "1 awaiting_second true"
expect 200 "the answer says why" '.onboarding.reason | test("send 1 of the first 2")' true
req GET "/v1/queue" "$TOKEN_alice"; expect 200 "the queue shows it waiting for a peer" '.items[] | select(.ticket_id == "O-1") | .status' awaiting_second
req POST /v1/tickets/O-1/approve "$TOKEN_nia"; expect 403 "the trainee cannot approve twice" '.error.message | test("different user")' true
req POST /v1/tickets/O-1/approve "$TOKEN_lee"; expect 403 "an onboarding lead cannot be the peer" '.error.message | test("onboarding reviewer")' true
req GET /v1/tickets/O-1 "$TOKEN_alice"; expect 200 "the ticket view names the first approver and the reason" '.peer_review.first_approval_by + " " + .status' "nia awaiting_second"
req POST /v1/tickets/O-1/approve "$TOKEN_alice"; expect 200 "a peer agent gives the second approval" '"\(.step) \(.status)"' "2 approved"
n=$(sqlite3 "$W/db" "SELECT group_concat(user_name || ':' || step, ',') FROM (SELECT user_name, step FROM approvals WHERE ticket_id='O-1' ORDER BY created_at)")
[ "$n" = "nia:1,alice:2" ] || die "O-1 approvals: $n"
echo "ok approvals stored (nia step 1, alice step 2)"
req GET "/v1/audit?ticket=O-1" "$TOKEN_alice"
expect 200 "the audit record of the trainee's approval says why" '.records[] | select(.action == "approve" and .actor == "nia") | "\(.body.peer_review_required) \(.body.onboarding | test("first 2"))"' "true true"

req POST /v1/tickets/O-2/edit "$TOKEN_nia" '{"text":"Hello,\nuse the reset link on the sign-in page."}'
expect 200 "onboarding send 2 (an edit): held for a peer" '"\(.status) \(.onboarding.reason | test("send 2 of the first 2"))"' "awaiting_second true"
req POST /v1/tickets/O-2/approve "$TOKEN_bob"; expect 200 "a lead gives the peer approval" .status approved

req POST /v1/tickets/O-4/reject "$TOKEN_nia"; expect 200 "a reject by the trainee" .status pending
req POST /v1/tickets/O-3/approve "$TOKEN_nia"
expect 200 "send 3, past the first 2 with a 0% share: goes out" '"\(.status) \(.onboarding.peer_review_required) \(.onboarding.reason | test("not drawn"))"' "approved false true"
req GET /v1/me "$TOKEN_nia"; expect 200 "sends counted, the reject not" .onboarding_tickets 3

req POST /v1/users/nia/onboarding "$TOKEN_alice" '{"onboarding":false}'; expect 403 "graduating needs a lead" .error.code forbidden
req POST /v1/users/ghost/onboarding "$TOKEN_bob" '{"onboarding":false}'; expect 404 "graduating an unknown user" .error.code not_found
req POST /v1/users/nia/onboarding "$TOKEN_bob" '{"onboarding":"no"}'; expect 400 "the field is named" '.error.message | test("onboarding")' true
req POST /v1/users/nia/onboarding "$TOKEN_bob" '{"onboarding":false}'; expect 200 "a lead graduates the reviewer" .onboarding false
req POST /v1/tickets/O-4/approve "$TOKEN_nia"; expect 200 "a graduated reviewer approves alone" '"\(.status) \(.onboarding)"' "approved null"
"$SOPGATE" user graduate lee --db "$W/db" 2>/dev/null || die "user graduate lee"
"$SOPGATE" user list --db "$W/db" | grep -q '^lee .*onboarding' && die "lee still onboarding after graduate"
echo "ok user graduate (CLI)"

set_onboarding 0 100%
req POST /v1/policy/reload "$TOKEN_dave"; expect 200 "reload with a 100% share"
"$SOPGATE" user onboard nia --db "$W/db" 2>/dev/null || die "user onboard nia"
post O-5
req POST /v1/tickets/O-5/approve "$TOKEN_nia"
expect 200 "after the first sends, a drawn send is held for a peer" '"\(.status) \(.onboarding.reason | test("drawn for peer review .100%"))"' "awaiting_second true"

curl -s "$BASE/metrics" >"$W/metrics" || die metrics
for m in 'sopgate_peer_reviews_total{reason="first_tickets"} 2' 'sopgate_peer_reviews_total{reason="random"} 1'; do
	grep -qF "$m" "$W/metrics" || die "metrics: no '$m'"
done
echo "ok peer review metrics"
n=$(sqlite3 "$W/db" "SELECT group_concat(actor || ':' || json_extract(body, '$.onboarding'), ',') FROM (SELECT actor, body FROM audit WHERE action = 'user.onboarding' ORDER BY created_at)")
[ "$n" = "bob:0,cli:0,cli:1" ] || die "onboarding changes audited: $n"
echo "ok graduating and onboarding are audited"
stop_server || die "stop"
"$SOPGATE" audit verify --db "$W/db" >/dev/null 2>&1 || die "audit verify"
echo "ok audit chain verifies"
