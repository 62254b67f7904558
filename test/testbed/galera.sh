# shellcheck shell=bash
# Galera: a 3-node MariaDB 10.11 cluster.
#
# As root (default): one network namespace per node (lbt-n1..3, 10.77.0.11-13/24) joined by veth
# pairs (root side lbt-v1..3, namespace side lbt-p1..3) to bridge lbt-br0 (10.77.0.1/24); each
# mariadbd runs inside its namespace as user mysql on port 3306. Not root (or
# LIFEBOAT_TESTBED_NET=loopback): all nodes on 127.0.0.1 with ports below 32768.
# Clients in the root namespace reach every node by TCP (10.77.0.1N:3306) or by its unix socket.

GALERA_PKGS=(mariadb-server mariadb-client galera-4 mariadb-backup iproute2 rsync)
GALERA_DIR="$RUN/galera"
GALERA_BRIDGE=lbt-br0
GALERA_BRIDGE_ADDR=10.77.0.1
GALERA_SUBNET_PREFIX=10.77.0
GALERA_USER=lifeboat
GALERA_PASSWORD=lifeboat
GALERA_GTID_WSREP_DOMAIN=100

galera_mode() {
  if [[ -f $GALERA_DIR/mode ]]; then
    cat "$GALERA_DIR/mode"
  elif [[ $EUID -eq 0 && ${LIFEBOAT_TESTBED_NET:-netns} != loopback ]]; then
    echo netns
  else
    echo loopback
  fi
}

# galera_node_vars N: sets the N_* variables describing node N for the current mode.
galera_node_vars() {
  local n=$1 mode
  mode=$(galera_mode)
  N_DIR="$GALERA_DIR/n$n"
  N_DATADIR="$N_DIR/data"
  N_TMPDIR="$N_DIR/tmp"
  N_SOCKET="$N_DIR/mariadbd.sock"
  N_PIDFILE="$N_DIR/mariadbd.pid"
  N_LAUNCHPID="$GALERA_DIR/n$n.launch.pid" # written by us (root), survives mariadbd's own cleanup
  N_CNF="$N_DIR/my.cnf"
  N_LOG="$N_DIR/error.log"
  N_STDOUT="$N_DIR/stdout.log"
  N_SSTLOGS="$N_DIR/sst-logs"
  if [[ $mode == netns ]]; then
    N_NETNS="lbt-n$n"
    N_VETH="lbt-v$n"
    N_PEER="lbt-p$n"
    N_HOST="$GALERA_SUBNET_PREFIX.1$n"
    N_PORT=3306
    N_GCOMM_PORT=4567
    N_IST_PORT=4568
    N_SST_PORT=4444
  else
    N_NETNS=""
    N_VETH=""
    N_PEER=""
    N_HOST=127.0.0.1
    N_PORT=$((13305 + n))
    N_GCOMM_PORT=$((14557 + 10 * n))
    N_IST_PORT=$((N_GCOMM_PORT + 1))
    N_SST_PORT=$((N_GCOMM_PORT + 2))
  fi
}

galera_cluster_address() {
  local n addrs=()
  for n in 1 2 3; do
    galera_node_vars "$n"
    addrs+=("$N_HOST:$N_GCOMM_PORT")
  done
  local IFS=,
  echo "gcomm://${addrs[*]}"
}

galera_env() { # prints the env-file lines for galera
  local n
  echo "GALERA_MODE=$(galera_mode)"
  for n in 1 2 3; do
    galera_node_vars "$n"
    echo "GALERA_NODE${n}_HOST=$N_HOST"
    echo "GALERA_NODE${n}_PORT=$N_PORT"
    echo "GALERA_NODE${n}_SOCKET=$N_SOCKET"
    echo "GALERA_NODE${n}_DATADIR=$N_DATADIR"
    echo "GALERA_NODE${n}_CNF=$N_CNF"
    echo "GALERA_NODE${n}_PIDFILE=$N_PIDFILE"
    echo "GALERA_NODE${n}_ERRORLOG=$N_LOG"
    echo "GALERA_NODE${n}_NETNS=$N_NETNS"
    echo "GALERA_NODE${n}_VETH=$N_VETH"
  done
  echo "GALERA_USER=$GALERA_USER"
  echo "GALERA_PASSWORD=$GALERA_PASSWORD"
  echo "GALERA_CLIENT_CNF=$GALERA_DIR/client.cnf"
}

# Runs SQL on node N over its unix socket. Before the lifeboat user exists, use admin=1 (root via
# unix_socket auth, or the invoking user when not root).
galera_sql() { # galera_sql N SQL [admin]
  galera_node_vars "$1"
  if [[ ${3:-} == admin ]]; then
    timeout 20 mariadb --no-defaults --socket="$N_SOCKET" -u "$(id -un)" -N -B -e "$2"
  else
    MYSQL_PWD=$GALERA_PASSWORD timeout 20 mariadb --no-defaults --socket="$N_SOCKET" -u "$GALERA_USER" \
      --connect-timeout=3 -N -B -e "$2"
  fi
}

# Prints "size state ready" for node N (e.g. "3 Synced ON"), or fails.
galera_wsrep_state() {
  local out
  out=$(galera_sql "$1" "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment','wsrep_ready')" "${2:-}") ||
    return 1
  awk '{v[$1]=$2} END { if (!("wsrep_cluster_size" in v)) exit 1; print v["wsrep_cluster_size"], v["wsrep_local_state_comment"], v["wsrep_ready"] }' <<<"$out"
}

galera_node_synced() { # galera_node_synced N SIZE [admin]
  local s
  s=$(galera_wsrep_state "$1" "${3:-}") || return 1
  [[ $s == "$2 Synced ON" ]]
}

galera_node_pid() { # prints the live mariadbd pid of node N (ours), or nothing
  galera_node_vars "$1"
  local p
  for p in $(read_pidfile "$N_LAUNCHPID") $(read_pidfile "$N_PIDFILE"); do
    if pid_matches "$p" "$N_CNF"; then
      echo "$p"
      return 0
    fi
  done
  return 0
}

# ---- network ----------------------------------------------------------------------------------

galera_net_up() {
  [[ $(galera_mode) == netns ]] || return 0
  # Refuse to shadow an address range that is already in use by something else.
  if ! ip link show "$GALERA_BRIDGE" >/dev/null 2>&1 &&
    ip -4 -o addr show | grep -q " $GALERA_SUBNET_PREFIX\."; then
    die galera "$GALERA_SUBNET_PREFIX.0/24 is already used on this host; cannot create $GALERA_BRIDGE"
  fi
  if ! ip link show "$GALERA_BRIDGE" >/dev/null 2>&1; then
    ip link add "$GALERA_BRIDGE" type bridge
  fi
  ip addr replace "$GALERA_BRIDGE_ADDR/24" dev "$GALERA_BRIDGE"
  ip link set "$GALERA_BRIDGE" up
  local n
  for n in 1 2 3; do
    galera_node_vars "$n"
    [[ -e /run/netns/$N_NETNS ]] || ip netns add "$N_NETNS"
    if ! ip link show "$N_VETH" >/dev/null 2>&1; then
      ip link add "$N_VETH" type veth peer name "$N_PEER"
      ip link set "$N_PEER" netns "$N_NETNS"
    fi
    ip link set "$N_VETH" master "$GALERA_BRIDGE"
    ip link set "$N_VETH" up
    ip -n "$N_NETNS" link set lo up
    ip -n "$N_NETNS" addr replace "$N_HOST/24" dev "$N_PEER"
    ip -n "$N_NETNS" link set "$N_PEER" up
  done
}

galera_net_down() {
  local n
  for n in 1 2 3; do
    # Names are fixed and ours (lbt-*); deleting the root-side veth also removes its peer.
    ip link del "lbt-v$n" 2>/dev/null || true
    if [[ -e /run/netns/lbt-n$n ]]; then
      ip netns del "lbt-n$n" 2>/dev/null || warn galera "could not delete netns lbt-n$n"
    fi
  done
  ip link del "$GALERA_BRIDGE" 2>/dev/null || true
}

# ---- config -----------------------------------------------------------------------------------

galera_write_cnf() { # galera_write_cnf N
  local n=$1 cluster
  cluster=$(galera_cluster_address)
  galera_node_vars "$n"
  mkdir -p "$N_DIR" "$N_DATADIR" "$N_TMPDIR" "$N_SSTLOGS"
  local userline=""
  [[ $EUID -eq 0 ]] && userline="user=mysql"
  cat >"$N_CNF" <<EOF
# Lifeboat testbed, Galera node $n (generated by test/testbed/galera.sh)
[mysqld]
$userline
datadir=$N_DATADIR
tmpdir=$N_TMPDIR
socket=$N_SOCKET
pid-file=$N_PIDFILE
log-error=$N_LOG
bind-address=$N_HOST
port=$N_PORT
skip-name-resolve=1
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
innodb_buffer_pool_size=128M
innodb_log_file_size=64M
innodb_flush_log_at_trx_commit=2
innodb_autoinc_lock_mode=2
default_storage_engine=InnoDB
binlog_format=ROW
log_bin=mariadb-bin
log_slave_updates=ON
server_id=1
gtid_domain_id=$n
max_connections=200
performance_schema=OFF

wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=lifeboat-testbed
wsrep_cluster_address=$cluster
wsrep_node_name=n$n
wsrep_node_address=$N_HOST:$N_GCOMM_PORT
wsrep_node_incoming_address=$N_HOST:$N_PORT
wsrep_provider_options="gmcast.listen_addr=tcp://$N_HOST:$N_GCOMM_PORT;ist.recv_addr=$N_HOST:$N_IST_PORT;gcache.size=64M"
wsrep_sst_method=rsync
wsrep_sst_auth=mysql:
wsrep_sst_receive_address=$N_HOST:$N_SST_PORT
wsrep_gtid_mode=ON
wsrep_gtid_domain_id=$GALERA_GTID_WSREP_DOMAIN
wsrep_slave_threads=2

[sst]
sst-log-archive-dir=$N_SSTLOGS

[client]
socket=$N_SOCKET
EOF
  if [[ $EUID -eq 0 ]]; then
    chown -R mysql:mysql "$N_DIR"
    chown root:root "$N_CNF"
  fi
  chmod 644 "$N_CNF"
}

galera_write_client_cnf() {
  mkdir -p "$GALERA_DIR"
  cat >"$GALERA_DIR/client.cnf" <<EOF
# mariadb --defaults-extra-file=$GALERA_DIR/client.cnf --socket=\$GALERA_NODE1_SOCKET
[client]
user=$GALERA_USER
password=$GALERA_PASSWORD
EOF
  chmod 644 "$GALERA_DIR/client.cnf"
}

# ---- node lifecycle ---------------------------------------------------------------------------

# galera_launch N [extra mariadbd args...]: starts node N in the background (own session, so that
# the node and its SST helpers form one process group).
galera_launch() {
  local n=$1
  shift
  galera_node_vars "$n"
  local pre=()
  [[ -n $N_NETNS ]] && pre=(ip netns exec "$N_NETNS")
  rm -f "$N_PIDFILE"
  echo "---- $(date -Is) start $*" >>"$N_STDOUT"
  setsid "${pre[@]}" /usr/sbin/mariadbd --defaults-file="$N_CNF" "$@" </dev/null >>"$N_STDOUT" 2>&1 9>&- &
  echo $! >"$N_LAUNCHPID"
}

# galera_wait_node N SIZE TIMEOUT [admin]: wait for node N to be Synced in a cluster of SIZE.
galera_wait_node() {
  local n=$1 size=$2 timeout=$3 how=${4:-}
  galera_node_vars "$n"
  local deadline=$((SECONDS + timeout)) pid
  while ! galera_node_synced "$n" "$size" "$how" 2>/dev/null; do
    pid=$(read_pidfile "$N_LAUNCHPID")
    if [[ -z $pid ]] || ! pid_alive "$pid"; then
      galera_node_vars "$n"
      die galera "node $n (mariadbd) exited during start-up" "$N_LOG" "$N_STDOUT"
    fi
    if ((SECONDS >= deadline)); then
      galera_node_vars "$n"
      die galera "node $n not Synced in a cluster of $size within ${timeout}s (state: $(galera_wsrep_state "$n" "$how" 2>/dev/null || echo 'no answer'))" "$N_LOG"
    fi
    sleep 0.2
  done
}

# galera_wait_cluster_size N SIZE TIMEOUT JOINER: wait until node N sees SIZE members, while the
# joining node JOINER is still alive.
galera_wait_cluster_size() {
  local n=$1 size=$2 timeout=$3 joiner=$4 deadline=$((SECONDS + $3)) st pid
  while :; do
    st=$(galera_wsrep_state "$n" 2>/dev/null) || st=""
    [[ ${st%% *} == "$size" ]] && return 0
    galera_node_vars "$joiner"
    pid=$(read_pidfile "$N_LAUNCHPID")
    [[ -n $pid ]] && pid_alive "$pid" || die galera "node $joiner (mariadbd) exited during start-up" "$N_LOG" "$N_STDOUT"
    ((SECONDS < deadline)) || die galera "node $joiner did not join within ${timeout}s" "$N_LOG"
    sleep 0.1
  done
}

# galera_stop_node N [TIMEOUT]: graceful stop (SIGTERM), SIGKILL after TIMEOUT; kills the node's
# whole process group (SST helpers) as well.
galera_stop_node() {
  local n=$1 timeout=${2:-30} pid
  galera_node_vars "$n"
  pid=$(galera_node_pid "$n")
  if [[ -n $pid ]]; then
    stop_pids "$timeout" "$N_CNF" "$pid"
    # Leftover SST helpers in the node's process group (the group id is the launch pid).
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$N_LAUNCHPID"
}

# ---- component API ----------------------------------------------------------------------------

galera_healthy() {
  local n
  for n in 1 2 3; do
    [[ -n $(galera_node_pid "$n") ]] || return 1
    galera_node_synced "$n" 3 || return 1
  done
}

galera_up() {
  local t0
  t0=$(now)
  ensure_packages "${GALERA_PKGS[@]}"
  if [[ -f $GALERA_DIR/ready ]] && galera_healthy; then
    log galera "already up (3 nodes Synced)"
    return 0
  fi
  if [[ -d $GALERA_DIR ]]; then
    log galera "found a partial or unhealthy cluster; removing it"
    galera_down
  fi
  local mode
  mode=$(galera_mode)
  mkdir -p "$GALERA_DIR"
  echo "$mode" >"$GALERA_DIR/mode"
  log galera "mode: $mode"
  if [[ $EUID -eq 0 ]]; then
    id mysql >/dev/null 2>&1 || die galera "user 'mysql' is missing (mariadb-server package broken?)"
    ensure_traversable mysql "$GALERA_DIR"
  fi
  if [[ $mode == netns ]]; then
    local m busy
    for m in 1 2 3; do
      busy=$(ip netns pids "lbt-n$m" 2>/dev/null | tr '\n' ' ' || true)
      [[ -z ${busy// /} ]] ||
        die galera "netns lbt-n$m already runs processes ($busy): another testbed (other run dir) is up? stop it first"
    done
  fi
  galera_net_up
  galera_write_client_cnf
  local n
  for n in 1 2 3; do galera_write_cnf "$n"; done

  # Node 1: fresh system tables, bootstrap, create the lifeboat account, clean shutdown.
  galera_node_vars 1
  local installlog="$GALERA_DIR/install-db.log"
  mariadb-install-db --defaults-file="$N_CNF" --user="$(id -un | sed 's/^root$/mysql/')" \
    --auth-root-authentication-method=socket --skip-test-db >"$installlog" 2>&1 ||
    die galera "mariadb-install-db failed" "$installlog"
  log galera "datadir initialised"
  galera_launch 1 --wsrep-new-cluster
  galera_wait_node 1 1 60 admin
  galera_sql 1 "CREATE USER '$GALERA_USER'@'localhost' IDENTIFIED BY '$GALERA_PASSWORD';
CREATE USER '$GALERA_USER'@'%' IDENTIFIED BY '$GALERA_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$GALERA_USER'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$GALERA_USER'@'%' WITH GRANT OPTION;" admin ||
    die galera "could not create user $GALERA_USER" "$N_LOG"
  galera_stop_node 1 60
  # Nodes 2 and 3 start from a copy of node 1's datadir (same cluster uuid): they catch up on the
  # few configuration-change events by IST, which is much faster than a full SST.
  for n in 2 3; do
    galera_node_vars "$n"
    rm -rf "$N_DATADIR"
    cp -a --sparse=always "$GALERA_DIR/n1/data" "$N_DATADIR"
    sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 0/' "$N_DATADIR/grastate.dat"
  done
  log galera "node 1 initialised; datadir copied to nodes 2 and 3"
  galera_launch 1 --wsrep-new-cluster
  galera_wait_node 1 1 60
  # Joining two nodes at the very same moment makes EVS retry for several seconds: start node 3
  # once node 2 is a member of the primary component (its IST may still be running).
  galera_launch 2
  galera_wait_cluster_size 1 2 60 2
  galera_launch 3
  for n in 1 2 3; do galera_wait_node "$n" 3 90; done
  touch "$GALERA_DIR/ready"
  timing galera "$t0"
}

galera_down() {
  local n p pids=()
  for n in 1 2 3; do
    p=$(galera_node_pid "$n")
    [[ -n $p ]] && pids+=("$p")
  done
  if ((${#pids[@]})); then
    # The data is thrown away with the run dir, so there is no point in a graceful shutdown.
    log galera "killing mariadbd pids ${pids[*]}"
    for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
      local i=0
      while pid_alive "$p" && ((i++ < 100)); do sleep 0.1; done
      pid_alive "$p" && warn galera "pid $p survived SIGKILL"
    done
  fi
  # The namespaces and the bridge have fixed names: they are this run dir's only if it set them
  # up (a `down` of another, empty run dir must not cut a running testbed's network).
  if [[ ! -f $GALERA_DIR/mode || $(cat "$GALERA_DIR/mode") != netns ]]; then
    rm -rf "$GALERA_DIR"
    return 0
  fi
  # Anything still running inside our namespaces (SST helpers, a test's probe) is ours too.
  local ns leftovers
  for n in 1 2 3; do
    ns="lbt-n$n"
    [[ -e /run/netns/$ns ]] || continue
    leftovers=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ') || leftovers=""
    if [[ -n ${leftovers// /} ]]; then
      warn galera "killing leftover processes in netns $ns: $leftovers"
      # shellcheck disable=SC2086
      kill -KILL $leftovers 2>/dev/null || true
    fi
  done
  galera_net_down
  rm -rf "$GALERA_DIR"
}

galera_status() {
  local n rc=0 pid st
  for n in 1 2 3; do
    galera_node_vars "$n"
    pid=$(galera_node_pid "$n")
    if [[ -z $pid ]]; then
      echo "galera  node$n: DOWN (no process)"
      rc=1
      continue
    fi
    if st=$(galera_wsrep_state "$n"); then
      read -r size state ready <<<"$st"
      local where="$N_HOST:$N_PORT"
      [[ -n $N_NETNS ]] && where="$where netns=$N_NETNS"
      if [[ $size == 3 && $state == Synced && $ready == ON ]]; then
        echo "galera  node$n: OK   pid=$pid $where cluster_size=$size state=$state"
      else
        echo "galera  node$n: BAD  pid=$pid $where cluster_size=$size state=$state ready=$ready"
        rc=1
      fi
    else
      echo "galera  node$n: BAD  pid=$pid not answering on $N_SOCKET"
      rc=1
    fi
  done
  return $rc
}

# ---- single-node operations (simulate server loss / maintenance) ------------------------------

galera_node_stop() { # graceful
  local n=$1
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_stop_node "$n" 60
  log galera "node $n stopped"
}

galera_node_kill() { # whole-server loss: cut its network, SIGKILL everything of that node
  local n=$1 others
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_node_vars "$n"
  [[ -n $N_VETH ]] && ip link set "$N_VETH" down
  galera_node_crash "$n"
  # whatever else runs "on that server": every process of its namespace (a daemon started there)
  if [[ -n $N_NETNS ]]; then
    others=$(ip netns pids "$N_NETNS" 2>/dev/null | tr '\n' ' ' || true)
    # shellcheck disable=SC2086
    [[ -n ${others// /} ]] && kill -KILL $others 2>/dev/null || true
  fi
  log galera "node $n killed${N_VETH:+ (veth $N_VETH down)}"
}

galera_need_netns() {
  [[ $(galera_mode) == netns ]] || die galera "$1 needs the netns mode (root)"
}

galera_node_cut() { # the node's link down: nothing killed (a blip, or the start of a loss)
  local n=$1
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_need_netns node-cut
  galera_node_vars "$n"
  ip link set "$N_VETH" down
  log galera "node $n: link down"
}

galera_node_uncut() {
  local n=$1
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_need_netns node-uncut
  galera_node_vars "$n"
  ip link set "$N_VETH" up
  log galera "node $n: link up"
}

# Partition: node N and its peers stop reaching each other (blackhole routes both ways), while
# every node still reaches the root namespace (10.77.0.1: the object store's relay in the tests).
galera_node_isolate() {
  local n=$1 m
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_need_netns node-isolate
  for m in 1 2 3; do
    [[ $m == "$n" ]] && continue
    ip -n "lbt-n$n" route replace blackhole "$GALERA_SUBNET_PREFIX.1$m/32"
    ip -n "lbt-n$m" route replace blackhole "$GALERA_SUBNET_PREFIX.1$n/32"
  done
  log galera "node $n: cut off from its peers (the root namespace still reachable)"
}

galera_node_heal() {
  local n=$1 m
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_need_netns node-heal
  for m in 1 2 3; do
    [[ $m == "$n" ]] && continue
    ip -n "lbt-n$n" route del blackhole "$GALERA_SUBNET_PREFIX.1$m/32" 2>/dev/null || true
    ip -n "lbt-n$m" route del blackhole "$GALERA_SUBNET_PREFIX.1$n/32" 2>/dev/null || true
  done
  log galera "node $n: partition healed"
}

# galera_start_position N: sets args=(--wsrep_start_position=…) when grastate.dat has no position.
# Like the distribution's service unit (galera_recovery): after a crash grastate.dat has seqno -1,
# so recover the position from InnoDB first and pass it on; the node then gets IST, not SST.
galera_start_position() {
  local n=$1 seqno pos
  galera_node_vars "$n"
  seqno=$(sed -n 's/^seqno:[[:space:]]*//p' "$N_DATADIR/grastate.dat" 2>/dev/null || true)
  [[ $seqno == -1 || -z $seqno ]] || return 0
  pos=$(galera_recovered_position "$n")
  if [[ -n $pos && $pos != *:-1 ]]; then
    log galera "node $n: recovered position $pos"
    args+=("--wsrep_start_position=$pos")
  else
    warn galera "node $n: no position recovered (full SST follows)"
  fi
}

# galera_recovered_position N: uuid:seqno as `mariadbd --wsrep-recover` finds it (the node stopped).
galera_recovered_position() {
  local n=$1 rlog
  galera_node_vars "$n"
  rlog="$N_DIR/wsrep-recover.log"
  rm -f "$rlog"
  timeout 120 /usr/sbin/mariadbd --defaults-file="$N_CNF" --wsrep-recover --log-error="$rlog" \
    </dev/null >/dev/null 2>&1 9>&- || true
  sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' "$rlog" 2>/dev/null | tail -n 1 || true
}

galera_node_crash() { # mariadbd dies (SIGKILL), the rest of the server runs on (its daemon, its link)
  local n=$1 pid
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  pid=$(galera_node_pid "$n")
  if [[ -n $pid ]]; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    local i=0
    while pid_alive "$pid" && ((i++ < 50)); do sleep 0.1; done
  fi
  galera_node_vars "$n"
  rm -f "$N_LAUNCHPID"
  log galera "node $n: mariadbd crashed (SIGKILL)"
}

galera_node_wipe() { # N's datadir emptied, the directory kept (a replacement server); N must be down
  local n=$1
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  [[ -z $(galera_node_pid "$n") ]] || die galera "node $n is running: crash or stop it before wiping its datadir"
  galera_node_vars "$n"
  find "$N_DATADIR" -mindepth 1 -delete
  log galera "node $n: datadir emptied"
}

galera_node_running() { # exit 0 while node N's mariadbd runs
  [[ -n $(galera_node_pid "$1") ]]
}

galera_node_recover() { # prints `WSREP: Recovered position: uuid:seqno` (the node must be stopped)
  local n=$1 pos
  [[ -z $(galera_node_pid "$n") ]] || die galera "node $n is running: stop it before recovering its position"
  pos=$(galera_recovered_position "$n")
  [[ -n $pos ]] || die galera "node $n: mariadbd --wsrep-recover found no position"
  echo "WSREP: Recovered position: $pos"
}

galera_node_bootstrap() { # a new Primary component from node N's datadir (the rest of the cluster down)
  local n=$1 t0
  t0=$(now)
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_node_vars "$n"
  if [[ -n $(galera_node_pid "$n") ]]; then
    log galera "node $n is already running"
    return 0
  fi
  local args=()
  galera_start_position "$n"
  sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$N_DATADIR/grastate.dat"
  galera_launch "$n" --wsrep-new-cluster "${args[@]}"
  galera_wait_node "$n" 1 120
  log galera "node $n bootstrapped a new Primary component in $(elapsed_since "$t0")s"
}

galera_node_start() { # rejoin the running cluster (IST/SST from a donor)
  local n=$1 t0
  t0=$(now)
  [[ $n =~ ^[123]$ ]] || die galera "node must be 1, 2 or 3"
  galera_node_vars "$n"
  [[ -f $N_CNF ]] || die galera "node $n has no config; run 'testbed.sh up galera' first"
  if [[ -n $(galera_node_pid "$n") ]]; then
    log galera "node $n is already running"
    return 0
  fi
  [[ -n $N_VETH ]] && ip link set "$N_VETH" up
  local m size=1
  for m in 1 2 3; do
    [[ $m == "$n" ]] && continue
    [[ -n $(galera_node_pid "$m") ]] && size=$((size + 1))
  done
  local args=()
  galera_start_position "$n"
  galera_launch "$n" "${args[@]}"
  galera_wait_node "$n" "$size" 180
  log galera "node $n joined (cluster size $size) in $(elapsed_since "$t0")s"
}
