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
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac

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
	cd "$dir" # the server's user may not enter the caller's directory
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
		--no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	# A free loopback port below the kernel's ephemeral range (so no
	# outgoing connection holds it): one nobody answers on. Another process
	# may still take it first; then the next try picks another.
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
	port=
	for _ in $(seq 5); do
		port=
		for _ in $(seq 100); do
			p=$((10000 + RANDOM % (lo - 10000)))
			if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
				port=$p
				break
			fi
		done
		[ -n "$port" ] || { echo "no free loopback port found" >&2; exit 1; }
		# fsync off: a test server that dies is thrown away anyway
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
			    -c max_connections=200 -c shared_buffers=64MB" start >/dev/null; then
			break
		fi
		grep -q "could not bind\|could not create any TCP" "$dir/server.log" ||
			{ cat "$dir/server.log" >&2; exit 1; }
		port=
	done
	[ -n "$port" ] || { cat "$dir/server.log" >&2; exit 1; }
	echo "postgres://postgres@127.0.0.1:$port/postgres"
	;;
stop)
	cd /
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
