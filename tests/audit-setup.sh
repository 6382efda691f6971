# Sourced by the audit-* golden cases: builds a database with an audit trail
# (chain "cli": four user.add records; chain "anchor": one anchor citing
# cli seq 3), then offers helpers to tamper with it through the sqlite3
# shell and to print verify's report with ids and hashes masked.
set -u
db="$SG_TEST_TMP/audit-$$-$RANDOM.db"
rm -f "$db"
for u in ann bo cy; do
	"$SOPGATE" user add "$u" --role agent --db "$db" >/dev/null 2>&1 || exit 9
done
"$SOPGATE" audit anchor --db "$db" >/dev/null || exit 9
"$SOPGATE" user add dee --role lead --db "$db" >/dev/null 2>&1 || exit 9
sql() { sqlite3 "$db" "$1" || exit 9; }
verify() {
	"$SOPGATE" audit verify --db "$db" >"$db.out" 2>&1
	rc=$?
	sed -E 's/[0-9A-HJKMNP-TV-Z]{26}/<ID>/g; s/[0-9a-f]{16}\.\.\./<H>.../g' "$db.out"
	return $rc
}
