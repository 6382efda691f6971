#!/usr/bin/env bash
# scorecard.sh - the QA loop over HTTP and the console's scorecard page in
# headless Chromium (playwright-core from tests/console): the API's roles
# and errors, CSAT, then the browser draws a sample, scores a ticket and
# reads the scorecard with its charts. The screenshot is kept as
# build/scorecard-test.png. Exits 77 with a "skip:" line when
# /usr/bin/chromium is not installed.
. "$(dirname "$0")/common.sh"
if [ ! -x /usr/bin/chromium ]; then
	echo "skip: /usr/bin/chromium is not installed; the scorecard test did not run"
	exit 77
fi
command -v node >/dev/null || die "node is required for the console test"
if [ ! -d "$top/tests/console/node_modules/playwright-core" ]; then
	(cd "$top/tests/console" && npm ci --no-audit --no-fund >"$W/npm.log" 2>&1) ||
		die "npm ci in tests/console failed: $(tail -n 5 "$W/npm.log")"
fi
make_policy
add_user alice agent
add_user lee lead
start_server --seed "$top/examples/acme/tickets.jsonl"
T='{"id":"T-QA1","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-8","tier":"paid"},"draft":{"text":"Hello, use the reset link on the sign-in page."}}'
req POST /v1/tickets "$TOKEN_alice" "$T"; expect 201 "post a ticket"
req POST /v1/tickets/T-QA1/approve "$TOKEN_alice" '{}'; expect 200 "an agent approves its draft"
req POST /v1/qa/csat "$TOKEN_alice" '{"ticket_id":"T-QA1","score":5}'; expect 200 "the helpdesk sends CSAT" .score 5
req POST /v1/qa/csat "$TOKEN_alice" '{"ticket_id":"T-QA1","score":9}'; expect 400 "CSAT out of range" .error.message "field 'score': expected a whole number 1..5"
req POST /v1/qa/sample "$TOKEN_alice" '{}'; expect 403 "an agent may not draw a sample"
req GET '/v1/qa/scorecard?week=2025-W53' "$TOKEN_alice"; expect 400 "a bad week is named" .error.message "week '2025-W53': year 2025 has no week 53"
req GET /v1/qa/charts/pie "$TOKEN_alice"; expect 404 "an unknown chart"
req GET /v1/scorecard "$TOKEN_alice"; expect 200 "the scorecard for agents" '.week.tickets >= 1' true
req POST /v1/qa/pauses/track_order/lift "$TOKEN_lee" '{}'; expect 404 "nothing to lift"
tickets=$(sqlite3 "$W/db" "SELECT count(*) FROM tickets")
mkdir -p "$top/build"
rm -f "$top/build/scorecard-test.png"
out=$(cd "$top/tests/console" && timeout 180 node scorecard_test.mjs "$BASE" "$TOKEN_lee" "$tickets" \
	"$top/build/scorecard-test.png" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/([0-9]* tickets)/(N tickets)/; s/counts [0-9]* tickets this week (previous [0-9]*, change [^)]*)/counts the tickets this week/; s/scored T-[A-Z0-9-]* /scored a ticket /'
[ $rc = 0 ] || die "scorecard test failed (exit $rc)"
[ -s "$top/build/scorecard-test.png" ] || die "no screenshot"
req GET '/v1/qa/incidents' "$TOKEN_alice"; expect 200 "the incident is listed" '.items | length' 1
stop_server || die "stop"
