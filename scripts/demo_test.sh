#!/usr/bin/env bash
# make demo in two checkouts at once gives two independent servers, and
# make demo-stop in one leaves the other running (run by make test).
# Each checkout is a copy of this one; both demos are stopped and the
# copies removed whatever happens.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/b2badmin-demotest-XXXXXX)
a=$work/a
b=$work/b
cleanup() {
	for d in "$a" "$b"; do
		[ -f "$d/Makefile" ] && env -u DEMO_DIR make -s -C "$d" demo-stop >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "demo_test: $*" >&2; for l in "$work"/*.log; do echo "--- $l" >&2; cat "$l" >&2; done; exit 1; }

for d in "$a" "$b"; do
	mkdir -p "$d"
	tar -C "$root" --exclude=./.git --exclude=./bin -cf - . | tar -C "$d" -xf -
done

# Both at once.
env -u DEMO_DIR make -C "$a" demo DEMO_USERS=30 >"$work/a.log" 2>&1 &
pa=$!
env -u DEMO_DIR make -C "$b" demo DEMO_USERS=30 >"$work/b.log" 2>&1 &
pb=$!
wait "$pa" || fail "make demo failed in checkout a"
wait "$pb" || fail "make demo failed in checkout b"

dsn() { sed -n "s/^  export B2BADMIN_DSN='\(.*\)'$/\1/p" "$1"; }
dsna=$(dsn "$work/a.log")
dsnb=$(dsn "$work/b.log")
[ -n "$dsna" ] && [ -n "$dsnb" ] || fail "no export B2BADMIN_DSN line"
[ "$dsna" != "$dsnb" ] || fail "both checkouts got the same server: $dsna"
for d in a b; do
	grep -q "^Stop it with: make -C $work/$d demo-stop$" "$work/$d.log" || fail "checkout $d: wrong stop hint"
	for step in "demo: building" "demo: creating and starting a PostgreSQL cluster" "demo: migrating" "demo: seeding 30 users"; do
		grep -q "^$step" "$work/$d.log" || fail "checkout $d: make demo did not say \"$step\""
	done
done

# Independent databases: a change in one is not in the other.
"$a/bin/b2badmin" --dsn "$dsna" users update 1 --first-name OnlyInA >/dev/null 2>&1 || fail "update in a"
nameb=$("$b/bin/b2badmin" --dsn "$dsnb" users list --id 1 --columns first_name --no-headers -o csv)
[ "$nameb" != "OnlyInA" ] || fail "a change in checkout a shows in checkout b"

# Stopping one leaves the other running.
env -u DEMO_DIR make -s -C "$a" demo-stop >"$work/stop.log" 2>&1 || fail "make demo-stop failed in a"
if "$a/bin/b2badmin" --dsn "$dsna" --timeout 5s db status >/dev/null 2>&1; then fail "a's server still answers after its demo-stop"; fi
"$b/bin/b2badmin" --dsn "$dsnb" --timeout 5s db status >/dev/null 2>&1 || fail "demo-stop in checkout a stopped checkout b's server"
echo "demo_test: ok: two checkouts, two servers; demo-stop in one left the other running"
