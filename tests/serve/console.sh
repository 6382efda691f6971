#!/usr/bin/env bash
# console.sh - the review console in headless Chromium (playwright-core from
# tests/console): log in, approve a draft, see the audit record. Exits 77
# with a "skip:" line when /usr/bin/chromium is not installed; any other
# problem (node, npm, the browser) is a failure.
. "$(dirname "$0")/common.sh"
if [ ! -x /usr/bin/chromium ]; then
	echo "skip: /usr/bin/chromium is not installed; the console test did not run"
	exit 77
fi
command -v node >/dev/null || die "node is required for the console test"
if [ ! -d "$top/tests/console/node_modules/playwright-core" ]; then
	(cd "$top/tests/console" && npm ci --no-audit --no-fund >"$W/npm.log" 2>&1) ||
		die "npm ci in tests/console failed: $(tail -n 5 "$W/npm.log")"
fi
make_policy
add_user alice agent
start_server --seed "$top/examples/acme/tickets.jsonl"
T='{"id":"T-UI","event_id":"e1","body":"My email is jane.doe@example.com, how do I reset my password?","customer":{"id":"C-8","tier":"paid"},"draft":{"text":"Hello, use the reset link on the sign-in page."}}'
req POST /v1/tickets "$TOKEN_alice" "$T"; expect 201 "post a ticket for the console"
gate=$(printf '%s' "$RESP" | jq -r .gate)
[ "$gate" != two_step ] || die "the console ticket should not be two_step"
mkdir -p "$top/build"
rm -f "$top/build/console-test.png"
out=$(cd "$top/tests/console" && timeout 120 node console_test.mjs "$BASE" "$TOKEN_alice" T-UI \
	"$top/build/console-test.png" 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc = 0 ] || die "console test failed (exit $rc)"
[ -s "$top/build/console-test.png" ] || die "no screenshot"
stop_server || die "stop"
