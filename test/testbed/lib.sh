# shellcheck shell=bash
# Common helpers for the Lifeboat testbed. Sourced by testbed.sh; expects RUN (absolute run dir).
#
# Contract: every process this testbed starts is recorded in a pid file under $RUN, and is only ever
# stopped through that file, after checking that /proc/<pid>/cmdline still names something of ours
# (protects against PID reuse). Nothing is ever stopped by process name.

TB_T0=$(date +%s.%N)

log() { # log COMPONENT MESSAGE...
  local c=$1
  shift
  printf '[testbed %6.1fs] %-7s %s\n' "$(elapsed_since "$TB_T0")" "$c:" "$*"
}

warn() {
  local c=$1
  shift
  printf '[testbed] %-7s WARNING: %s\n' "$c:" "$*" >&2
}

# die COMPONENT MESSAGE [LOGFILE...]: print a clear error plus the tail of each log, exit non-zero.
die() {
  local c=$1 msg=$2
  shift 2
  printf '[testbed] %-7s ERROR: %s\n' "$c:" "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -s $f ]]; then
      printf '[testbed] %-7s ---- last 40 lines of %s ----\n' "$c:" "$f" >&2
      tail -n 40 "$f" | sed 's/^/    /' >&2
    fi
  done
  exit 1
}

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Record a timing line for the summary printed at the end of `up`.
timing() { # timing COMPONENT START_TS
  local secs
  secs=$(elapsed_since "$2")
  log "$1" "ready in ${secs}s"
  mkdir -p "$RUN"
  echo "$1 ${secs}" >>"$RUN/.timings"
}

# ---- processes --------------------------------------------------------------------------------

# pid_alive PID: true if the process exists and is not a zombie.
pid_alive() {
  local pid=$1 st
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

# pid_matches PID NEEDLE: the process is alive and its command line contains NEEDLE.
pid_matches() {
  local pid=$1 needle=$2 cmd
  pid_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$needle"* ]]
}

read_pidfile() { # prints the pid in FILE, or nothing
  local f=$1 p=
  [[ -r $f ]] && read -r p <"$f" 2>/dev/null || true
  [[ $p =~ ^[0-9]+$ ]] && echo "$p"
  return 0
}

# pidfile_alive FILE NEEDLE: the pid recorded in FILE is alive and is ours.
pidfile_alive() {
  local p
  p=$(read_pidfile "$1")
  [[ -n $p ]] && pid_matches "$p" "$2"
}

# stop_pids TIMEOUT_S NEEDLE PID...: SIGTERM each pid that is ours, wait, then SIGKILL survivors.
stop_pids() {
  local timeout=$1 needle=$2
  shift 2
  local pids=() p
  for p in "$@"; do
    [[ -n $p ]] && pid_matches "$p" "$needle" && pids+=("$p")
  done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + timeout)) alive
  while :; do
    alive=()
    for p in "${pids[@]}"; do pid_alive "$p" && alive+=("$p"); done
    ((${#alive[@]})) || return 0
    ((SECONDS >= deadline)) && break
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
  for p in "${alive[@]}"; do
    local i=0
    while pid_alive "$p" && ((i++ < 50)); do sleep 0.1; done
  done
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: poll CMD every 0.2 s; return 1 on timeout.
wait_until() {
  local timeout=$1
  shift 1
  local deadline
  deadline=$(awk -v t="$timeout" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", n + t }')
  while ! "$@" >/dev/null 2>&1; do
    if awk -v d="$deadline" -v n="$(date +%s.%N)" 'BEGIN { exit !(n > d) }'; then return 1; fi
    sleep 0.2
  done
}

# ---- packages ---------------------------------------------------------------------------------

ensure_packages() { # ensure_packages PKG...
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $EUID -eq 0 ]] || die pkgs "missing Debian packages (${missing[*]}) and not root: install them first"
  local t0
  t0=$(now)
  log pkgs "installing ${missing[*]}"
  # Never let postinst scripts start system services (a system glusterd would take the CLI socket).
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0 aptlog="${RUN}/apt.log"
  mkdir -p "$RUN"
  {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  } >"$aptlog" 2>&1 || rc=$?
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die pkgs "apt-get install ${missing[*]} failed (rc=$rc)" "$aptlog"
  timing pkgs "$t0"
}

# ---- misc -------------------------------------------------------------------------------------

# Make sure USER can traverse every directory from / to DIR (adds o+x where needed, with a warning).
ensure_traversable() { # ensure_traversable USER DIR
  local user=$1 dir=$2 d=""
  local IFS=/ part
  for part in $dir; do
    [[ -z $part ]] && continue
    d="$d/$part"
    if ! runuser -u "$user" -- test -x "$d" 2>/dev/null; then
      warn galera "adding o+x to $d so that user '$user' can reach the run dir"
      chmod o+x "$d"
    fi
  done
}
