#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and stops it.
#
#   tests/pg-setup.sh start DIR   initdb into DIR/data, start on a free
#                                 loopback port with its unix socket in DIR;
#                                 prints the server's URL
#                                 (postgres://postgres@127.0.0.1:PORT/postgres)
#   tests/pg-setup.sh stop DIR    stops it (fast shutdown) and removes DIR
#
# Exit 77 from start when the PostgreSQL server binaries are not installed
# (scripts/install-deps installs them). initdb refuses to run as root, so
# as root the server runs as the 'postgres' user (created by Debian's
# package) in a DIR that user owns.
set -eu
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && bindir=$d
	done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "skip: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
	exit 77
fi

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	# a free loopback port: one nobody answers on (pg_ctl fails, and we
	# say so, in the unlikely case another process takes it meanwhile)
	port=
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			port=$p
			break
		fi
	done
	[ -n "$port" ] || { echo "no free loopback port found" >&2; exit 1; }
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
		--no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	# fsync off: a test server that dies is thrown away anyway
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
		    -c max_connections=200 -c shared_buffers=64MB" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	echo "postgres://postgres@127.0.0.1:$port/postgres"
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
