#!/usr/bin/env bash
# End-to-end smoke check of a running testbed (run `testbed.sh up` first):
#   Galera: write on node 1 (TCP), read on node 3 (socket); mariadb-backup stream from node 2
#   GlusterFS: a file written through the mount appears in all three bricks
#   S3: a 50 MB file goes up and down through `aws s3 cp` with the same sha256
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN=${LIFEBOAT_TESTBED_DIR:-$(cd "$HERE/../.." && pwd)/.testbed}
[[ -f $RUN/env ]] || {
  echo "smoke: no $RUN/env; run testbed.sh up first" >&2
  exit 1
}
set -a
# shellcheck disable=SC1091
source "$RUN/env"
set +a

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
t() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2fs", b - a }'; }

# ---- Galera ----
db="smoke_$$"
export MYSQL_PWD=$GALERA_PASSWORD
t0=$(t)
if mariadb --no-defaults -h "$GALERA_NODE1_HOST" -P "$GALERA_NODE1_PORT" -u "$GALERA_USER" -e \
  "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(32));
   INSERT INTO $db.t (v) VALUES ('written-on-node1');" &&
  v=$(mariadb --no-defaults --socket="$GALERA_NODE3_SOCKET" -u "$GALERA_USER" -N -B -e "SELECT v FROM $db.t") &&
  [[ $v == written-on-node1 ]]; then
  ok "galera: row written on node 1 (TCP $GALERA_NODE1_HOST) read on node 3 (socket) ($(dt "$t0"))"
else
  bad "galera: row written on node 1 not read on node 3"
fi
t0=$(t)
if bytes=$(cd "$tmp" && mariadb-backup --backup --galera-info --stream=xbstream --socket="$GALERA_NODE2_SOCKET" \
  --user="$GALERA_USER" --password="$GALERA_PASSWORD" --datadir="$GALERA_NODE2_DATADIR" \
  2>"$tmp/mb.log" | wc -c) && grep -q 'completed OK' "$tmp/mb.log" && ((bytes > 1000000)); then
  ok "galera: mariadb-backup --stream=xbstream from node 2: $bytes bytes ($(dt "$t0"))"
else
  bad "galera: mariadb-backup from node 2 failed: $(tail -n 3 "$tmp/mb.log")"
fi
mariadb --no-defaults --socket="$GALERA_NODE1_SOCKET" -u "$GALERA_USER" -e "DROP DATABASE $db" || true
unset MYSQL_PWD

# ---- GlusterFS ----
f="var/smoke-$$.txt"
echo "smoke $$" >"$GLUSTER_MOUNT/$f"
all=1
for b in "$GLUSTER_BRICK1" "$GLUSTER_BRICK2" "$GLUSTER_BRICK3"; do
  [[ $(cat "$b/$f" 2>/dev/null) == "smoke $$" ]] || all=0
done
if ((all)); then ok "gluster: file written through the mount is in all three bricks"; else
  bad "gluster: file missing from a brick"
fi
rm -f "$GLUSTER_MOUNT/$f"
for d in var pub/media pub/static app/etc; do
  [[ -d $GLUSTER_MOUNT/$d ]] || bad "gluster: directory $d missing from the mount"
done

# ---- S3 ----
aws=/usr/bin/aws
[[ -x $aws ]] || aws=aws
head -c 50M /dev/urandom >"$tmp/f50"
key="smoke/f50-$$"
t0=$(t)
if "$aws" --endpoint-url "$S3_ENDPOINT" s3 cp "$tmp/f50" "s3://$S3_BUCKET/$key" --only-show-errors &&
  "$aws" --endpoint-url "$S3_ENDPOINT" s3 cp "s3://$S3_BUCKET/$key" "$tmp/f50.back" --only-show-errors &&
  [[ $(sha256sum <"$tmp/f50") == $(sha256sum <"$tmp/f50.back") ]]; then
  ok "s3: 50 MB up and down through aws s3 cp, sha256 equal ($(dt "$t0"))"
else
  bad "s3: 50 MB round trip failed"
fi
"$aws" --endpoint-url "$S3_ENDPOINT" s3 rm "s3://$S3_BUCKET/$key" --only-show-errors || true

# (worded so that CI does not mistake it for a test runner's "N passed, N failed" summary)
if ((fail == 0)); then echo "smoke: all $pass checks ok"; else echo "smoke: $fail of $((pass + fail)) checks FAILED"; fi
((fail == 0))
