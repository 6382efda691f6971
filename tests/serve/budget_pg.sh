#!/usr/bin/env bash
# budget_pg.sh - two `sopgate serve` processes on one PostgreSQL share one
# daily AI session budget: with 3 sessions a day, tickets posted to both
# at once get exactly 3 drafts between them.
# Needs $SOPGATE_TEST_PG (tests/run starts a server); exit 77 without it.
. "$(dirname "$0")/common.sh"
[ -n "${SOPGATE_TEST_PG:-}" ] || { echo "skip: no PostgreSQL (SOPGATE_TEST_PG)"; exit 77; }
db=sgt_budget_$$
psql -qtA "$SOPGATE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
	>/dev/null 2>&1 || die "cannot create database $db"
URL=${SOPGATE_TEST_PG%/*}/$db
make_policy
sed -i -e 's/^  max_sessions_per_day: 500$/  max_sessions_per_day: 3/' \
	-e 's/^  min_confidence: 0.70 /  min_confidence: 0.01 /' "$W/acme/policy.yaml"
grep -q '^  max_sessions_per_day: 3$' "$W/acme/policy.yaml" &&
	grep -q '^  min_confidence: 0.01 ' "$W/acme/policy.yaml" || die "cannot set the budget"
"$SOPGATE" kb index "$W/acme/kb" --db "$W/kb.db" >/dev/null 2>&1 || die "kb index"
TOKEN=$("$SOPGATE" user add alice --role agent --store "$URL" 2>/dev/null | grep -o 'sgt_[0-9a-f]*') ||
	die "user add"
PIDS=() PORTS=()
for i in 1 2; do
	"$SOPGATE" serve --policy "$W/acme/policy.yaml" --store "$URL" --worker "b$i" --kb "$W/kb.db" \
		--listen 127.0.0.1:0 --console none 2>>"$W/log.$i" &
	PIDS[$i]=$!
done
cleanup_budget() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	psql -qtA "$SOPGATE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup_budget EXIT
for i in 1 2; do
	for _ in $(seq 1 600); do
		PORTS[$i]=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$W/log.$i" | tail -n 1)
		[ -n "${PORTS[$i]}" ] && break
		kill -0 "${PIDS[$i]}" 2>/dev/null || { cat "$W/log.$i"; die "worker $i exited at start"; }
		sleep 0.1
	done
	[ -n "${PORTS[$i]}" ] || die "worker $i did not start"
done
echo "ok two workers share one PostgreSQL"
post() {
	curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary \
		"{\"id\":\"B-$1\",\"event_id\":\"e1\",\"body\":\"Where is my order ACME-100$1? It has not arrived.\",\"customer\":{\"id\":\"C-$1\",\"tier\":\"paid\"}}" \
		"http://127.0.0.1:$2/v1/tickets" | jq -r .ai_mode >"$W/mode.$1"
}
POSTS=()
for n in 1 2 3 4 5 6 7 8; do post "$n" "${PORTS[$((n % 2 + 1))]}" & POSTS+=($!); done
for p in "${POSTS[@]}"; do wait "$p"; done
drafts=$(cat "$W"/mode.* | grep -c '^draft_reply$')
summaries=$(cat "$W"/mode.* | grep -c '^summarize_only$')
[ "$drafts" = 3 ] && [ "$summaries" = 5 ] ||
	die "expected 3 drafts and 5 summaries, got $drafts and $summaries: $(cat "$W"/mode.* | tr '\n' ' ')"
echo "ok 8 tickets on two workers at once: 3 drafts, 5 over the shared budget"
n=$(psql -qtA "$URL" -c "SELECT SUM(value) FROM counters WHERE name LIKE 'budget.sessions:%'")
[ "$n" = 3 ] || die "counter is '$n', expected 3"
echo "ok the database holds the day's count"
