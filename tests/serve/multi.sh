#!/usr/bin/env bash
# multi.sh - three `sopgate serve` processes on one PostgreSQL: a burst of
# tickets spread over them, one killed with SIGKILL mid-burst, approvals
# through the survivors, and due SLA timers that all three race to claim.
# Afterwards every acknowledged ticket has exactly one decision, every
# timer fired once, every outbox action the decisions queued was delivered
# once in effect (a fake signed-webhook receiver, tests/serve/fake_webhook.py,
# deduplicates on the Idempotency-Key: one effect per action, resends of the
# killed worker's leased actions allowed, none dead), and the audit (one chain
# per worker) verifies.
# Needs $SOPGATE_TEST_PG (tests/run starts a server); exit 77 without it.
. "$(dirname "$0")/common.sh"
[ -n "${SOPGATE_TEST_PG:-}" ] || { echo "skip: no PostgreSQL (SOPGATE_TEST_PG)"; exit 77; }
db=sgt_multi_$$
psql -qtA "$SOPGATE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
	>/dev/null 2>&1 || die "cannot create database $db"
URL=${SOPGATE_TEST_PG%/*}/$db
q() { psql -qtA "$URL" -c "$1"; }
make_policy
# every decision and every channel's action goes to one signed webhook (a
# fake on a free loopback port); short timeout, so the killed worker's
# leases (timeout + 5 s) expire soon and a survivor resends them
python3 - "$W/acme/policy.yaml" <<'PY' || die "cannot route the policy's actions to the webhook"
import re, sys
p = sys.argv[1]; s = open(p).read()
head, sep, rest = s.partition("\nchannels:\n")
if not sep: sys.exit("no channels: block")
block, end = re.match(r"((?:  .*\n|#.*\n|\n)*)(.*)", rest, re.S).groups()
block, n = re.subn(r"^(  [\w-]+: \{)kind:", r"\1connector: hook, kind:", block, flags=re.M)
if n == 0: sys.exit("no channels to route")
open(p, "w").write(head + sep + block + end)
PY
export SG_MULTI_HOOK_SECRET=hook-s3cret SG_FAKE_HOOK_SECRET=hook-s3cret
python3 "$top/tests/serve/fake_webhook.py" "$W/hook.port" "$W/hook.log" 2>"$W/hook.err" &
FAKE_PID=$!
trap 'kill "$FAKE_PID" 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 300); do [ -s "$W/hook.port" ] && break; sleep 0.1; done
[ -s "$W/hook.port" ] || die "fake webhook did not start: $(cat "$W/hook.err")"
cat >>"$W/acme/policy.yaml" <<YAML

connectors:
  hook: {type: webhook, base_url: 'http://127.0.0.1:$(cat "$W/hook.port")/hook',
         secret_env: SG_MULTI_HOOK_SECRET, record: true,
         actions: [create_issue, notify, escalate, reply, set_field], timeout: 2s, connect_timeout: 2s}
outbox: {backoff: 1s, max_backoff: 2s, lease: 2s, poll: 1s}
YAML
"$SOPGATE" check "$W/acme/policy.yaml" >"$W/check" 2>&1 || die "policy with the webhook: $(cat "$W/check")"
for u in alice:agent lee:lead; do
	t=$("$SOPGATE" user add "${u%%:*}" --role "${u#*:}" --store "$URL" 2>/dev/null | grep -o 'sgt_[0-9a-f]*') ||
		die "user add $u"
	eval "TOKEN_${u%%:*}=$t"
done
# 40 SLA timers already due, at level 2: a breach opens exactly one level-3
# escalation, so a timer fired twice would show as two
q "INSERT INTO escalations (id, ticket_id, level, owner, channel, reason, due_at, state,
   created_at, updated_at) SELECT 'esc-' || g, 'S-' || g, 2, 'lead', NULL, 'test', 0, 'open', 0, 0
   FROM generate_series(1, 40) g" >/dev/null || die "seeding escalations"

PIDS=() PORTS=()
for i in 1 2 3; do
	"$SOPGATE" serve --policy "$W/acme/policy.yaml" --store "$URL" --worker "w$i" \
		--listen 127.0.0.1:0 --console none --threads 8 2>>"$W/log.$i" &
	PIDS[$i]=$!
done
cleanup_multi() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
	psql -qtA "$SOPGATE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup_multi EXIT
for i in 1 2 3; do
	for _ in $(seq 1 1200); do # slow under the sanitizers, three at once
		PORTS[$i]=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$W/log.$i" | tail -n 1)
		[ -n "${PORTS[$i]}" ] && break
		kill -0 "${PIDS[$i]}" 2>/dev/null || { cat "$W/log.$i"; die "worker $i exited at start"; }
		sleep 0.1
	done
	[ -n "${PORTS[$i]}" ] || die "worker $i did not start"
done
echo "ok three workers share one PostgreSQL"

N=600
: >"$W/acked"
post() {
	local port=$2 code
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_alice" \
		-H 'Content-Type: application/json' --data-binary \
		"{\"id\":\"M-$1\",\"event_id\":\"e1\",\"body\":\"Where is my order ACME-$1?\",\"customer\":{\"id\":\"C-$1\",\"tier\":\"paid\"},\"draft\":{\"text\":\"It ships today. TWOSTEP\"}}" \
		"http://127.0.0.1:$port/v1/tickets")
	[ "$code" = 201 ] && echo "M-$1" >>"$W/acked"
	return 0
}
export -f post; export TOKEN_alice W
for n in $(seq 1 $N); do echo "$n ${PORTS[$((n % 3 + 1))]}"; done |
	xargs -P 9 -L 1 bash -c 'post $0 $1' 2>/dev/null &
burst=$!
for _ in $(seq 1 600); do
	[ "$(wc -l <"$W/acked")" -ge 100 ] && break
	sleep 0.05
done
kill -KILL "${PIDS[2]}"; wait "${PIDS[2]}" 2>/dev/null; unset 'PIDS[2]'
wait "$burst" 2>/dev/null
acked=$(sort -u "$W/acked" | wc -l)
[ "$acked" -ge 100 ] || die "only $acked tickets acknowledged"
[ "$acked" -lt "$N" ] || die "no post failed: the kill came after the burst"
echo "ok worker 2 killed with SIGKILL mid-burst"

sort -u "$W/acked" >"$W/acked.s"
q "SELECT ticket_id FROM decisions WHERE ticket_id LIKE 'M-%' GROUP BY ticket_id HAVING COUNT(*) = 1" |
	sort >"$W/once"
missing=$(comm -23 "$W/acked.s" "$W/once" | wc -l)
[ "$missing" = 0 ] || die "$missing acknowledged tickets without exactly one decision: $(comm -23 "$W/acked.s" "$W/once" | head -3 | tr '\n' ' ')"
dup=$(q "SELECT COUNT(*) FROM (SELECT ticket_id FROM decisions GROUP BY ticket_id HAVING COUNT(*) > 1) x")
[ "$dup" = 0 ] || die "$dup tickets with more than one decision"
echo "ok every acknowledged ticket has exactly one decision"

# the first 60 acknowledged tickets get their first approval on worker 1 and
# their second (two_step) on worker 3
appr=0
for t in $(head -n 60 "$W/acked.s"); do
	c1=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN_alice" \
		"http://127.0.0.1:${PORTS[1]}/v1/tickets/$t/approve")
	c2=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN_lee" \
		"http://127.0.0.1:${PORTS[3]}/v1/tickets/$t/approve")
	[ "$c1" = 200 ] && [ "$c2" = 200 ] && appr=$((appr + 1))
done
[ "$appr" = 60 ] || die "only $appr of 60 tickets approved in two steps across workers"
n2=$(q "SELECT COUNT(*) FROM approvals WHERE ticket_id LIKE 'M-%' AND step = 2")
[ "$n2" = 60 ] || die "$n2 second approvals stored, expected 60"
echo "ok approvals split across workers"

# the next 40 are approved by the same reviewer on two workers at the same
# moment: one approval is stored, the other answered 409 or 403
cpids=()
for t in $(sed -n '61,100p' "$W/acked.s"); do
	for port in "${PORTS[1]}" "${PORTS[3]}"; do
		curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN_alice" \
			"http://127.0.0.1:$port/v1/tickets/$t/approve" &
		cpids+=($!)
	done
done
wait "${cpids[@]}"
twice=$(q "SELECT COUNT(*) FROM (SELECT ticket_id FROM approvals WHERE ticket_id LIKE 'M-%'
	   GROUP BY ticket_id, step HAVING COUNT(*) > 1) x")
once=$(q "SELECT COUNT(DISTINCT ticket_id) FROM approvals WHERE ticket_id LIKE 'M-%'")
[ "$twice" = 0 ] || die "$twice tickets approved twice at the same step by racing workers"
[ "$once" = 100 ] || die "$once tickets have approvals, expected 100"
echo "ok racing approvals on two workers store one"

# a generous deadline: under a sanitizer on a loaded machine the sweeps are slow
for _ in $(seq 1 600); do
	[ "$(q "SELECT COUNT(*) FROM escalations WHERE level = 2 AND state = 'open'")" = 0 ] && break
	sleep 0.1
done
open=$(q "SELECT COUNT(*) FROM escalations WHERE level = 2 AND state = 'open'")
[ "$open" = 0 ] || die "$open due SLA timers never fired"
l3=$(q "SELECT COUNT(*) FROM escalations WHERE level = 3 AND ticket_id LIKE 'S-%'")
l3d=$(q "SELECT COUNT(DISTINCT ticket_id) FROM escalations WHERE level = 3 AND ticket_id LIKE 'S-%'")
[ "$l3" = 40 ] && [ "$l3d" = 40 ] || die "SLA breaches: $l3 level-3 escalations for $l3d tickets, expected 40 for 40"
echo "ok every due SLA timer fired exactly once"

# the outbox drains (the killed worker's leased actions come back after the
# lease); then every action is sent and the webhook saw each key once in
# effect: distinct keys = actions, raw requests >= that (resends allowed)
for _ in $(seq 1 1800); do # generous: slow under the sanitizers
	[ "$(q "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")" = 0 ] && break
	sleep 0.1
done
pending=$(q "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
[ "$pending" = 0 ] || die "$pending outbox actions still pending"
actions=$(q "SELECT COUNT(*) FROM outbox")
decided=$(q "SELECT COUNT(*) FROM decisions WHERE ticket_id LIKE 'M-%'")
[ "$actions" -ge "$decided" ] || die "$actions outbox actions for $decided decisions (each has a record action)"
notsent=$(q "SELECT COUNT(*) FROM outbox WHERE state <> 'sent'")
[ "$notsent" = 0 ] || die "$notsent outbox actions not sent: $(q "SELECT id, state, last_error FROM outbox WHERE state <> 'sent' LIMIT 3" | tr '\n' ' ')"
q "SELECT idem_key FROM outbox" | sort >"$W/keys.outbox"
sort -u "$W/hook.log" >"$W/keys.hook"
effects=$(wc -l <"$W/keys.hook")
raw=$(wc -l <"$W/hook.log")
[ "$(sort -u "$W/keys.outbox" | wc -l)" = "$actions" ] || die "outbox idempotency keys are not distinct"
cmp -s "$W/keys.outbox" "$W/keys.hook" ||
	die "webhook effects differ from the outbox: $(comm -3 "$W/keys.outbox" "$W/keys.hook" | head -3 | tr '\n' ' ')"
[ "$effects" = "$actions" ] && [ "$raw" -ge "$effects" ] ||
	die "webhook: $effects effects and $raw requests for $actions actions"
echo "ok every outbox action was delivered once in effect (all sent, none dead)"

chains=$(q "SELECT COUNT(DISTINCT chain) FROM audit WHERE chain LIKE 'w_' OR chain LIKE 'w_-review'")
[ "$chains" -ge 3 ] || die "expected one audit chain per worker, found $chains"
"$SOPGATE" audit verify --store "$URL" >"$W/verify" 2>&1 || die "audit verify: $(cat "$W/verify")"
echo "ok audit verifies (one chain per worker)"
