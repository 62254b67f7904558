#!/usr/bin/env bash
# `npm run demo`: brings up a local sandbox (3-node Galera cluster, GlusterFS volume) with
# Magento-shaped data, then runs Lifeboat's main job end to end on the embedded `fs` store:
# snapshot, list, verify, restore. The sandbox stays up; stop it with
# `bash test/testbed/testbed.sh down`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash test/setup.sh
bash test/testbed/testbed.sh up galera gluster
set -a
# shellcheck disable=SC1091
source .testbed/env
set +a

demo=.testbed/demo
rm -rf "$demo"
mkdir -p "$demo"
chmod 755 "$demo"

echo "== generating a small Magento database (magento_demo, ~20 MB)"
node dist/test/testbed/datagen/main.js db --socket "$GALERA_NODE1_SOCKET" --user "$GALERA_USER" \
  --password "$GALERA_PASSWORD" --database magento_demo --size-mb 20 >/dev/null

cat >"$demo/lifeboat.yaml" <<YAML
stateDir: $root/$demo/state
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
  url: file://$root/$demo/repository
files:
  root: $GLUSTER_MOUNT
YAML

lifeboat() { node dist/src/app/main.js --config "$demo/lifeboat.yaml" "$@"; }

echo "== lifeboat config check"
lifeboat config check | head -5
echo "== lifeboat snapshot --db-only   (node n2 is desynced while it streams)"
lifeboat snapshot --db-only
echo "== lifeboat snapshots"
lifeboat snapshots
echo "== lifeboat verify latest"
lifeboat verify latest
echo "== lifeboat restore db --snapshot latest --to $demo/restored"
lifeboat restore db --snapshot latest --to "$demo/restored"
ls "$demo/restored" | head -20
echo "== demo finished: repository in $demo/repository (stop the sandbox: bash test/testbed/testbed.sh down)"
