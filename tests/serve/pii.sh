#!/usr/bin/env bash
# pii.sh - no raw PII on disk or in the log: posts a ticket holding a card
# number, an SSN and an email (body, subject, customer fields, draft), edits
# its draft with PII, then scans every byte of the database, its WAL and
# shared-memory files and the server's log, while running and after stop.
. "$(dirname "$0")/common.sh"
make_policy
add_user alice agent
start_server
T='{"id":"T-PII","event_id":"e1","subject":"card 4111 1111 1111 1111","body":"My card 4111 1111 1111 1111 was charged twice, my SSN is 536-22-1234, write to jane.doe@example.org","customer":{"id":"C-9","name":"Jane Doe","email":"jane.doe@example.org","phone":"+1 415 555 0199","tier":"premium"},"history":[{"role":"customer","text":"card 4111111111111111 ssn 536-22-1234"}],"draft":{"text":"Hi, we refunded card 4111 1111 1111 1111."}}'
req POST /v1/tickets "$TOKEN_alice" "$T"; expect 201 "post a ticket with a card, an SSN and an email"
for s in "4111 1111 1111 1111" 4111111111111111 536-22-1234 jane.doe@example.org; do
	printf '%s' "$RESP" | grep -qF "$s" && die "the decision echoes '$s'"
done
echo "ok the decision holds no raw PII"
req POST /v1/tickets/T-PII/edit "$TOKEN_alice" '{"text":"Hi Jane, card 4111-1111-1111-1111 and SSN 536-22-1234 noted; mail jane.doe@example.org"}'
[ "$STATUS" = 200 ] || [ "$STATUS" = 409 ] || die "edit: $STATUS $RESP"
echo "ok edit with PII answered"
req GET /v1/tickets/T-PII "$TOKEN_alice"; expect 200 "ticket view"
scan() {
	local f
	for f in "$W"/db "$W"/db-wal "$W"/db-shm "$W"/log; do
		[ -f "$f" ] || continue
		for s in "4111 1111 1111 1111" 4111111111111111 4111-1111-1111-1111 536-22-1234 536221234 \
			 jane.doe@example.org "Jane Doe" "415 555 0199"; do
			grep -aqF "$s" "$f" && die "'$s' found in $(basename "$f")"
		done
	done
	return 0
}
[ -f "$W/db-wal" ] || die "no WAL file while running (expected WAL mode)"
scan; echo "ok no raw PII in the database, WAL or log while running"
stop_server || die "stop"
scan; echo "ok no raw PII in the database or log after stop"
