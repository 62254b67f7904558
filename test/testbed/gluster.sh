# shellcheck shell=bash
# GlusterFS: glusterd with its own working directory, a replica-3 volume `lifeboat` with three
# bricks on this host (under the run dir) and a FUSE mount at $RUN/gluster/mnt.
#
# glusterd keeps its CLI socket at the default /var/run/glusterd.socket (heal info needs it), so
# only one glusterd per machine: `up` refuses to run next to a glusterd that is not ours.

GLUSTER_PKGS=(glusterfs-server glusterfs-client)
GLUSTER_DIR="$RUN/gluster"
GLUSTER_VOLUME=lifeboat
GLUSTER_MNT="$GLUSTER_DIR/mnt"
GLUSTER_VOLFILE="$GLUSTER_DIR/glusterd.vol"
GLUSTER_PIDFILE="$GLUSTER_DIR/glusterd.pid"
GLUSTER_MNT_PIDFILE="$GLUSTER_DIR/mount.pid"
GLUSTER_LOG="$GLUSTER_DIR/glusterd.log"
GLUSTER_MNT_LOG="$GLUSTER_DIR/mount.log"
GLUSTER_STATE="$GLUSTER_DIR/state"
GLUSTER_RUNDIR="$GLUSTER_DIR/run"
GLUSTER_CLI_SOCKET=/var/run/glusterd.socket
GLUSTER_DIRS=(var pub/media pub/static app/etc)
# Brick ports outside the ephemeral range (32768-60999), so they never collide with client ports.
GLUSTER_BASE_PORT=24110
GLUSTER_MAX_PORT=24199

gluster_brick() { echo "$GLUSTER_DIR/bricks/b$1"; }

gluster_env() {
  echo "GLUSTER_VOLUME=$GLUSTER_VOLUME"
  echo "GLUSTER_MOUNT=$GLUSTER_MNT"
  echo "GLUSTER_HOST=$(gluster_host_name 2>/dev/null || true)"
  local i
  for i in 1 2 3; do echo "GLUSTER_BRICK$i=$(gluster_brick "$i")"; done
}

gcli() { timeout "${GCLI_TIMEOUT:-60}" gluster --mode=script "$@"; }

# The brick host must be a name (glusterd rejects the literal 127.0.0.1 and "localhost") that
# resolves to 127.0.0.1, where glusterd listens.
gluster_host_name() {
  if [[ -f $GLUSTER_DIR/host ]]; then
    cat "$GLUSTER_DIR/host"
    return
  fi
  if [[ -n ${LIFEBOAT_TESTBED_GLUSTER_HOST:-} ]]; then
    echo "$LIFEBOAT_TESTBED_GLUSTER_HOST"
    return
  fi
  local h
  for h in "$(hostname)" lbt-gluster; do
    [[ -n $h && $h != localhost* ]] || continue
    if getent ahostsv4 "$h" 2>/dev/null | awk '{print $1}' | sort -u | grep -qx 127.0.0.1; then
      echo "$h"
      return
    fi
  done
  return 1
}

gluster_ensure_host() {
  local h
  if h=$(gluster_host_name); then
    echo "$h"
    return
  fi
  warn gluster "no host name resolves to 127.0.0.1; adding '127.0.0.1 lbt-gluster' to /etc/hosts"
  echo "127.0.0.1 lbt-gluster # lifeboat testbed (GlusterFS brick host)" >>/etc/hosts
  echo lbt-gluster
}

gluster_glusterd_pid() {
  local p
  p=$(read_pidfile "$GLUSTER_PIDFILE")
  [[ -n $p ]] && pid_matches "$p" "$GLUSTER_VOLFILE" && echo "$p"
  return 0
}

# From the mount table, not mountpoint(1): a FUSE mount whose client died cannot be stat()ed.
gluster_mounted() { awk -v m="$GLUSTER_MNT" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }

# PIDs of the brick processes and self-heal daemon of our volume, as glusterd reports them.
gluster_volume_pids() {
  GCLI_TIMEOUT=15 gcli volume status "$GLUSTER_VOLUME" --xml 2>/dev/null |
    sed -n 's:.*<pid>\([0-9][0-9]*\)</pid>.*:\1:p' | sort -u
}

gluster_write_volfile() {
  # No backticks anywhere in this file: glusterd refuses to start if it sees one.
  cat >"$GLUSTER_VOLFILE" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $GLUSTER_STATE
    option run-directory $GLUSTER_RUNDIR
    option transport-type socket
    option transport.socket.bind-address 127.0.0.1
    option transport.socket.keepalive-time 10
    option transport.socket.keepalive-interval 2
    option transport.socket.read-fail-log off
    option transport.socket.listen-port 24007
    option ping-timeout 0
    option event-threads 1
    option base-port $GLUSTER_BASE_PORT
    option max-port $GLUSTER_MAX_PORT
end-volume
EOF
}

gluster_healthy() {
  [[ -n $(gluster_glusterd_pid) ]] || return 1
  gluster_mounted || return 1
  local xml online
  xml=$(GCLI_TIMEOUT=15 gcli volume status "$GLUSTER_VOLUME" detail --xml 2>/dev/null) || return 1
  online=$(grep -c '<status>1</status>' <<<"$xml" || true)
  ((online >= 3)) || return 1
  timeout 10 stat "$GLUSTER_MNT/var" >/dev/null 2>&1
}

gluster_up() {
  local t0 host
  t0=$(now)
  [[ $EUID -eq 0 ]] || die gluster "GlusterFS needs root (glusterd, FUSE mount)"
  ensure_packages "${GLUSTER_PKGS[@]}"
  [[ -e /dev/fuse ]] || die gluster "/dev/fuse is missing: cannot mount the volume"
  if [[ -f $GLUSTER_DIR/ready ]] && gluster_healthy; then
    log gluster "already up (volume $GLUSTER_VOLUME mounted at $GLUSTER_MNT)"
    return 0
  fi
  if [[ -d $GLUSTER_DIR ]]; then
    log gluster "found a partial or unhealthy volume; removing it"
    gluster_down
  fi
  # A glusterd that is not ours owns the CLI socket: refuse rather than fight over it.
  if [[ -S $GLUSTER_CLI_SOCKET ]] && GCLI_TIMEOUT=5 gcli pool list >/dev/null 2>&1; then
    die gluster "another glusterd (not started by this testbed) answers on $GLUSTER_CLI_SOCKET; stop it first"
  fi
  mkdir -p "$GLUSTER_DIR" "$GLUSTER_STATE" "$GLUSTER_RUNDIR" "$GLUSTER_MNT" "$GLUSTER_DIR/bricks"
  host=$(gluster_ensure_host)
  echo "$host" >"$GLUSTER_DIR/host"
  gluster_write_volfile
  rm -f "$GLUSTER_CLI_SOCKET"
  setsid /usr/sbin/glusterd -N -f "$GLUSTER_VOLFILE" -p "$GLUSTER_PIDFILE" -l "$GLUSTER_LOG" \
    </dev/null >>"$GLUSTER_DIR/glusterd.stdout" 2>&1 9>&- &
  echo $! >"$GLUSTER_PIDFILE"
  local gpid=$!
  local deadline=$((SECONDS + 30))
  until GCLI_TIMEOUT=5 gcli volume list >/dev/null 2>&1; do
    pid_alive "$gpid" || die gluster "glusterd exited during start-up" "$GLUSTER_LOG" "$GLUSTER_DIR/glusterd.stdout"
    ((SECONDS < deadline)) || die gluster "glusterd not answering on $GLUSTER_CLI_SOCKET within 30s" "$GLUSTER_LOG"
    sleep 0.2
  done
  log gluster "glusterd up (pid $gpid, brick host '$host')"
  local bricks=() i
  for i in 1 2 3; do
    mkdir -p "$(gluster_brick "$i")"
    bricks+=("$host:$(gluster_brick "$i")")
  done
  gcli volume create "$GLUSTER_VOLUME" replica 3 "${bricks[@]}" force >"$GLUSTER_DIR/create.log" 2>&1 ||
    die gluster "volume create failed" "$GLUSTER_DIR/create.log" "$GLUSTER_LOG"
  gcli volume start "$GLUSTER_VOLUME" >>"$GLUSTER_DIR/create.log" 2>&1 ||
    die gluster "volume start failed" "$GLUSTER_DIR/create.log" "$GLUSTER_LOG"
  gluster_volume_pids >"$GLUSTER_DIR/volume.pids"
  # Mount through the glusterfs client directly (what mount.glusterfs does) to get its pid file.
  /usr/sbin/glusterfs --process-name fuse --volfile-server="$host" --volfile-id="/$GLUSTER_VOLUME" \
    --pid-file="$GLUSTER_MNT_PIDFILE" --log-file="$GLUSTER_MNT_LOG" "$GLUSTER_MNT" </dev/null 9>&- ||
    die gluster "FUSE mount of $GLUSTER_VOLUME failed" "$GLUSTER_MNT_LOG"
  wait_until 20 gluster_mounted || die gluster "$GLUSTER_MNT is not a mount point after 20s" "$GLUSTER_MNT_LOG"
  local d
  for d in "${GLUSTER_DIRS[@]}"; do mkdir -p "$GLUSTER_MNT/$d"; done
  touch "$GLUSTER_DIR/ready"
  timing gluster "$t0"
}

gluster_down() {
  # 1. the FUSE mount (its client process exits on unmount)
  if gluster_mounted; then
    timeout 20 umount "$GLUSTER_MNT" 2>/dev/null || {
      warn gluster "umount $GLUSTER_MNT failed or hung; lazy unmount"
      umount -l "$GLUSTER_MNT" 2>/dev/null || true
    }
  fi
  local mp
  mp=$(read_pidfile "$GLUSTER_MNT_PIDFILE")
  [[ -n $mp ]] && stop_pids 5 "$GLUSTER_MNT" "$mp"
  # 2. the volume's daemons: bricks and self-heal daemon, as glusterd reports them plus as recorded
  local gpid pids=() p
  gpid=$(gluster_glusterd_pid)
  if [[ -n $gpid ]]; then
    mapfile -t pids < <(gluster_volume_pids || true)
  fi
  if [[ -f $GLUSTER_DIR/volume.pids ]]; then
    while read -r p; do [[ -n $p ]] && pids+=("$p"); done <"$GLUSTER_DIR/volume.pids"
  fi
  # glusterd keeps the daemons' pid files in its run-directory (inside ours)
  local f
  for f in "$GLUSTER_RUNDIR"/vols/"$GLUSTER_VOLUME"/*.pid "$GLUSTER_RUNDIR"/shd/"$GLUSTER_VOLUME"/*.pid; do
    [[ -f $f ]] && pids+=("$(read_pidfile "$f")")
  done
  local ours=()
  mapfile -t pids < <(printf '%s\n' "${pids[@]}" | grep -E '^[0-9]+$' | sort -un || true)
  for p in "${pids[@]}"; do
    # Bricks name their brick dir; the self-heal daemon names the volume (shd/<volume>).
    if pid_matches "$p" "$GLUSTER_DIR/bricks/" || pid_matches "$p" "shd/$GLUSTER_VOLUME"; then
      ours+=("$p")
    fi
  done
  local sockets=()
  if ((${#ours[@]})); then
    # Their unix sockets under /var/run/gluster (named by hash) are removed once they are gone.
    for p in "${ours[@]}"; do
      mapfile -t -O "${#sockets[@]}" sockets < <(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null |
        grep -E '^/var/run/gluster/[0-9a-f]+\.socket$' || true)
    done
    log gluster "stopping brick/self-heal pids ${ours[*]}"
    stop_pids 10 "" "${ours[@]}"
  fi
  # 3. glusterd
  if [[ -n $gpid ]]; then
    log gluster "stopping glusterd pid $gpid"
    stop_pids 10 "$GLUSTER_VOLFILE" "$gpid"
  fi
  # 4. state: ours, plus what glusterd writes outside its working directory for this volume
  if gluster_mounted; then
    umount -l "$GLUSTER_MNT" 2>/dev/null || true
  fi
  if gluster_mounted; then
    die gluster "$GLUSTER_MNT is still mounted"
  fi
  rm -rf "$GLUSTER_DIR"
  rm -rf "/var/run/gluster/vols/$GLUSTER_VOLUME" "/var/run/gluster/shd/$GLUSTER_VOLUME"
  ((${#sockets[@]} == 0)) || rm -f "${sockets[@]}"
  if [[ -S $GLUSTER_CLI_SOCKET ]] && [[ -n $gpid ]]; then rm -f "$GLUSTER_CLI_SOCKET"; fi
}

gluster_status() {
  local gpid rc=0
  gpid=$(gluster_glusterd_pid)
  if [[ -z $gpid ]]; then
    echo "gluster glusterd: DOWN"
    rc=1
  else
    echo "gluster glusterd: OK   pid=$gpid"
    local xml
    if xml=$(GCLI_TIMEOUT=15 gcli volume status "$GLUSTER_VOLUME" --xml 2>/dev/null); then
      local line
      while read -r line; do
        echo "gluster $line"
        [[ $line == *"online=1"* ]] || rc=1
      done < <(awk '
        /<node>/ { h=""; p=""; s=""; pid="" }
        /<hostname>/ { gsub(/.*<hostname>|<\/hostname>.*/, ""); h=$0 }
        /<path>/ { gsub(/.*<path>|<\/path>.*/, ""); p=$0 }
        /<status>/ { gsub(/.*<status>|<\/status>.*/, ""); s=$0 }
        /<pid>/ { gsub(/.*<pid>|<\/pid>.*/, ""); pid=$0 }
        /<\/node>/ { printf "%-8s %s online=%s pid=%s\n", (p ~ /^\// ? "brick:" : "daemon:"), h ":" p, s, pid }
      ' <<<"$xml")
      local pending
      pending=$(GCLI_TIMEOUT=15 gcli volume heal "$GLUSTER_VOLUME" statistics heal-count 2>/dev/null |
        awk -F: '/Number of entries/ { s += $2 } END { print s + 0 }') || pending="?"
      echo "gluster heal pending entries: $pending"
    else
      echo "gluster volume $GLUSTER_VOLUME: MISSING or glusterd not answering"
      rc=1
    fi
  fi
  if gluster_mounted && timeout 10 stat "$GLUSTER_MNT/." >/dev/null 2>&1; then
    echo "gluster mount:   OK   $GLUSTER_MNT"
  else
    echo "gluster mount:   DOWN $GLUSTER_MNT"
    rc=1
  fi
  return $rc
}

# gluster_brick_pid N: the pid glusterd reports for brick N (empty while it is down).
gluster_brick_pid() {
  GCLI_TIMEOUT=15 gcli volume status "$GLUSTER_VOLUME" "$(gluster_host_name):$(gluster_brick "$1")" --xml 2>/dev/null |
    sed -n 's:.*<pid>\([0-9][0-9]*\)</pid>.*:\1:p' | grep -v '^-1$' | head -n 1 || true
}

gluster_brick_kill() { # brick N's process SIGKILLed (a lost brick; the volume serves from the other two)
  local n=$1 pid
  [[ $n =~ ^[123]$ ]] || die gluster "brick must be 1, 2 or 3"
  pid=$(gluster_brick_pid "$n")
  [[ -n $pid ]] || die gluster "brick $n is not running"
  kill -KILL "$pid"
  log gluster "brick $n (pid $pid) killed"
}

gluster_brick_wipe() { # brick N killed and its directory emptied, xattrs and all (a replaced disk)
  local n=$1 pid dir
  [[ $n =~ ^[123]$ ]] || die gluster "brick must be 1, 2 or 3"
  pid=$(gluster_brick_pid "$n")
  [[ -z $pid ]] || kill -KILL "$pid"
  dir=$(gluster_brick "$n")
  rm -rf "$dir"
  mkdir -p "$dir"
  log gluster "brick $n: killed, directory emptied"
}

gluster_brick_start() { # the volume's dead bricks started again (volume start force), until brick N answers
  local n=$1 i brick
  [[ $n =~ ^[123]$ ]] || die gluster "brick must be 1, 2 or 3"
  brick="$(gluster_host_name):$(gluster_brick "$n")"
  if [[ ! -d $(gluster_brick "$n")/.glusterfs && -z $(gluster_brick_pid "$n") ]]; then
    # an emptied brick cannot start: made a member again (reset-brick), then filled by a full heal
    gcli volume reset-brick "$GLUSTER_VOLUME" "$brick" start >/dev/null 2>&1 || true
    gcli volume reset-brick "$GLUSTER_VOLUME" "$brick" "$brick" commit force >/dev/null 2>&1 || true
    gcli volume heal "$GLUSTER_VOLUME" full >/dev/null 2>&1 || true
  fi
  for i in $(seq 1 30); do
    [[ -n $(gluster_brick_pid "$n") ]] && return 0
    gcli volume start "$GLUSTER_VOLUME" force >/dev/null 2>&1 || true
    sleep 1
  done
  die gluster "brick $n did not start"
}
