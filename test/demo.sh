#!/usr/bin/env bash
# `npm run demo`: brings up a local sandbox (3-node Galera cluster in network namespaces, a
# GlusterFS volume over FUSE) with Magento-shaped data, then runs Lifeboat end to end on the
# embedded `fs` store: a full snapshot (database + the four file areas), list, verify, restores,
# the daemon taking a scheduled snapshot, node 3 lost, detected and rebuilt from the verified
# snapshot (`recover --plan`, then `recover --execute --yes`), and a Staging refresh (database and media) from the
# verified snapshot into the sandbox's Staging MariaDB. The sandbox stays up afterwards; stop it with
# `bash test/testbed/testbed.sh down`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash test/setup.sh
bash test/testbed/testbed.sh up galera gluster staging
set -a
# shellcheck disable=SC1091
source .testbed/env
set +a

demo=$root/.testbed/demo
magento=$GLUSTER_MOUNT/demo-magento
rm -rf "$demo" "$magento"
mkdir -p "$demo" "$magento"
chmod 755 "$demo"

echo "== generating a Magento database (magento_demo, ~20 MB) and a media tree on the GlusterFS mount"
node dist/test/testbed/datagen/main.js db --socket "$GALERA_NODE1_SOCKET" --user "$GALERA_USER" \
  --password "$GALERA_PASSWORD" --database magento_demo --size-mb 20 >/dev/null
node dist/test/testbed/datagen/main.js media --root "$magento" --small 400 --large 4 --static 300 >/dev/null

export LIFEBOAT_DEMO_API_TOKEN=demo-token LIFEBOAT_DEMO_SALT=demo-salt-0123
cat >"$demo/lifeboat.yaml" <<YAML
stateDir: $demo/state
cluster:
  name: demo
  node: n2
  nodes:
    - { name: n1, host: $GALERA_NODE1_HOST, port: $GALERA_NODE1_PORT, socket: $GALERA_NODE1_SOCKET, datadir: $GALERA_NODE1_DATADIR }
    - { name: n2, host: $GALERA_NODE2_HOST, port: $GALERA_NODE2_PORT, socket: $GALERA_NODE2_SOCKET, datadir: $GALERA_NODE2_DATADIR }
    - { name: n3, host: $GALERA_NODE3_HOST, port: $GALERA_NODE3_PORT, socket: $GALERA_NODE3_SOCKET, datadir: $GALERA_NODE3_DATADIR }
database:
  user: $GALERA_USER
  password: { env: GALERA_PASSWORD }
storage:
  url: file://$demo/repository
files:
  root: $magento
schedules:
  snapshot: "*/20 * * * * *"        # every 20 seconds, for the demo (default: every six hours)
api:
  listen: 127.0.0.1:18470
  token: { env: LIFEBOAT_DEMO_API_TOKEN }
log:
  level: info
  format: text
staging:
  sourceDatabase: magento_demo
  target: { socket: $STAGING_SOCKET, user: $STAGING_USER, password: { env: STAGING_PASSWORD }, database: magento_staging }
  hosts:
    www.shop.example.test: www.staging.example.test
    eu.shop.example.test: eu.staging.example.test
    media.shop.example.test: media.staging.example.test
    media-fr.shop.example.test: media-fr.staging.example.test
    static.shop.example.test: static.staging.example.test
    shop.example.test: staging.example.test
  anonymize: { salt: { env: LIFEBOAT_DEMO_SALT } }
  media: { area: pub/media, target: $STAGING_MEDIA_DIR }
YAML

lifeboat() { node dist/bundle/main.js --config "$demo/lifeboat.yaml" "$@"; }

echo "== lifeboat config check"
lifeboat config check | head -4
echo "== lifeboat snapshot   (database from node n2, desynced while it streams; then the four file areas)"
lifeboat snapshot
echo "== lifeboat snapshots"
lifeboat snapshots
echo "== lifeboat verify latest"
lifeboat verify latest
echo "== lifeboat restore db --snapshot latest --to $demo/restored-db"
lifeboat restore db --snapshot latest --to "$demo/restored-db"
echo "== lifeboat restore files --snapshot latest --area pub/media --path catalog/product --to $demo/restored-media"
lifeboat restore files --snapshot latest --area pub/media --path catalog/product --to "$demo/restored-media"

echo "== lifeboat daemon on n2 and n1   (schedule every 20 s, one node takes each slot; waiting for a scheduled snapshot)"
before=$(lifeboat --json snapshots | node -e 'process.stdin.on("data",d=>process.stdout.write(String(JSON.parse(d).length)))')
node dist/bundle/main.js --config "$demo/lifeboat.yaml" daemon >"$demo/daemon.log" 2>&1 &
daemon=$!
# a second daemon, as node n1 would run it: loss detection needs another observer to confirm
sed -e 's/^  node: n2$/  node: n1/' -e 's/127.0.0.1:18470/127.0.0.1:18471/' -e "s|^stateDir: .*|stateDir: $demo/state-n1|" "$demo/lifeboat.yaml" >"$demo/lifeboat-n1.yaml"
node dist/bundle/main.js --config "$demo/lifeboat-n1.yaml" daemon >"$demo/daemon-n1.log" 2>&1 &
daemon1=$!
trap 'kill $daemon $daemon1 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  sleep 2
  now=$(lifeboat --json snapshots | node -e 'process.stdin.on("data",d=>process.stdout.write(String(JSON.parse(d).length)))')
  [ "$now" -gt "$before" ] && break
done
curl -s -H "authorization: Bearer $LIFEBOAT_DEMO_API_TOKEN" http://127.0.0.1:18470/v1/status | head -c 600; echo
echo "== lifeboat cluster status   (the daemon's probes of its peers and the witness heartbeats)"
lifeboat cluster status
echo "== a whole-server loss: node 3's link cut and every process of it SIGKILLed (testbed.sh node-kill 3)"
bash test/testbed/testbed.sh node-kill 3
for _ in $(seq 1 30); do
  sleep 1
  lifeboat --json cluster status | grep -Eq '"state": ?"lost"' && break
done
lifeboat cluster status
echo "== node 3's server is replaced: a new machine with an empty datadir (testbed.sh node-wipe 3), its daemon started"
bash test/testbed/testbed.sh node-wipe 3
bash test/testbed/testbed.sh node-uncut 3
tb="$root/test/testbed/testbed.sh"
sed -e 's/^  node: n2$/  node: n3/' -e 's/127.0.0.1:18470/127.0.0.1:18472/' -e "s|^stateDir: .*|stateDir: $demo/state-n3|" "$demo/lifeboat.yaml" >"$demo/lifeboat-n3.yaml"
cat >>"$demo/lifeboat-n3.yaml" <<YAML
recovery:
  auto: false                       # the daemon plans and alerts; the operator runs it (true: it runs by itself)
  control: { type: commands, start: [bash, $tb, node-start, "3"], bootstrap: [bash, $tb, node-bootstrap, "3"], stop: [bash, $tb, node-stop, "3"], status: [bash, $tb, node-running, "3"], recover: [bash, $tb, node-recover, "3"] }
YAML
node dist/bundle/main.js --config "$demo/lifeboat-n3.yaml" daemon >"$demo/daemon-n3.log" 2>&1 &
daemon3=$!
trap 'kill $daemon $daemon1 $daemon3 2>/dev/null || true' EXIT
lifeboat3() { node dist/bundle/main.js --config "$demo/lifeboat-n3.yaml" "$@"; }
for _ in $(seq 1 60); do
  sleep 1
  lifeboat3 --json recover --plan 2>/dev/null | grep -q '"playbook": *"seed-from-snapshot"' && break
done
echo "== lifeboat recover --plan   (on node 3: what it would do, and why)"
lifeboat3 recover --plan
echo "== lifeboat recover --execute --yes   (node 3 seeded from the verified snapshot, then it joins by IST)"
lifeboat3 recover --execute --yes
grep -E 'Receiving IST: [0-9]|rsync (IST|SST) completed' "$GALERA_NODE3_ERRORLOG" | tail -2
lifeboat cluster status
kill -TERM $daemon $daemon1 $daemon3
wait $daemon $daemon1 $daemon3 || true
trap - EXIT
grep -hE 'slot (taken|done)|snapshot committed' "$demo/daemon.log" "$demo/daemon-n1.log" | tail -3 || true
lifeboat snapshots
[ "$now" -gt "$before" ] || { echo "demo: the daemon took no scheduled snapshot" >&2; exit 1; }

echo "== lifeboat verify latest   (a Staging refresh copies the newest verified snapshot)"
lifeboat verify latest
echo "== lifeboat staging sync --dry-run"
lifeboat staging sync --dry-run
echo "== lifeboat staging sync --media   (the snapshot into Staging's own MariaDB: no connection to Production)"
lifeboat staging sync --media
echo "== lifeboat staging status"
lifeboat staging status | head -3
echo "== demo finished: repository in $demo/repository (stop the sandbox: bash test/testbed/testbed.sh down)"
