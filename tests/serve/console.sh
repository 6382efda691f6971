#!/usr/bin/env bash
# console.sh - the review console in headless Chromium (playwright-core from
# tests/console): log in, approve a draft, see the audit record; the shadow
# policy page; an onboarding reviewer's approval waiting for a peer's. Exits 77
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
# a shadow candidate without the test's two_step rule, so TWOSTEP drafts differ
python3 - "$W/acme/policy.yaml" "$W/acme/shadow.yaml" <<'PY' || die "cannot write the candidate"
import sys
s = open(sys.argv[1]).read()
cut = "    - name: test-two-step\n      gate: two_step\n      when: contains(draft.text, \"TWOSTEP\")\n"
if cut not in s: sys.exit("rule not found")
open(sys.argv[2], "w").write(s.replace(cut, "", 1))
PY
add_user alice agent
"$SOPGATE" user add nia --role agent --onboarding --db "$W/db" >"$W/nia.tok" 2>/dev/null || die "user add nia"
TOKEN_nia=$(grep -o 'sgt_[0-9a-f]*' "$W/nia.tok")
start_server --seed "$top/examples/acme/tickets.jsonl" --shadow "$W/acme/shadow.yaml"
T='{"id":"T-UI","event_id":"e1","body":"My email is jane.doe@example.com, how do I reset my password?","customer":{"id":"C-8","tier":"paid"},"draft":{"text":"Hello, use the reset link on the sign-in page."}}'
req POST /v1/tickets "$TOKEN_alice" "$T"; expect 201 "post a ticket for the console"
gate=$(printf '%s' "$RESP" | jq -r .gate)
[ "$gate" != two_step ] || die "the console ticket should not be two_step"
req POST /v1/tickets "$TOKEN_alice" '{"id":"T-SH","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-9","tier":"paid"},"draft":{"text":"Hello TWOSTEP, use the reset link."}}'
expect 201 "post a ticket the shadow policy decides differently" .gate two_step
req POST /v1/tickets "$TOKEN_alice" '{"id":"T-OB","event_id":"e1","body":"How do I reset my password?","customer":{"id":"C-10","tier":"paid"},"draft":{"text":"Hello, the reset link is on the sign-in page."}}'
expect 201 "post a ticket for the onboarding reviewer" .gate agent_review
mkdir -p "$top/build"
rm -f "$top/build/console-test.png" "$top/build/console-shadow.png"
out=$(cd "$top/tests/console" && timeout 180 node console_test.mjs "$BASE" "$TOKEN_alice" T-UI \
	"$top/build/console-test.png" "$TOKEN_nia" T-OB T-SH "$top/build/console-shadow.png" 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc = 0 ] || die "console test failed (exit $rc)"
[ -s "$top/build/console-test.png" ] && [ -s "$top/build/console-shadow.png" ] || die "no screenshot"
stop_server || die "stop"
