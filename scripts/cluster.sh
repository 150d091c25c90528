#!/usr/bin/env bash
# StreamShare as a cluster on one machine, with one command: Redis, a local
# SecantusDB, three `streamshare serve` instances (a, b, c) on loopback and a
# load balancer (nginx, or HAProxy with --lb haproxy) on
# http://127.0.0.1:8080 in front of them, running deploy/nginx-cluster.conf
# or deploy/haproxy-cluster.cfg with this machine's ports. Installs what is
# missing, builds the web app and the server (release) like scripts/run.sh,
# waits until everything answers, prints where it all is, and stops
# everything on Ctrl-C or SIGTERM.
#
#   scripts/cluster.sh [--lb nginx|haproxy] [--debug] [--no-web-build] [-- SERVE ARGS...]
#
#   --lb nginx|haproxy  the load balancer (default nginx)
#   --debug             build and run the debug binary (quicker to build)
#   --no-web-build      serve web/dist (or STREAMSHARE_WEB_DIR) as it is
#   -- SERVE ARGS       passed to every `streamshare serve`
#
# Ports and places (environment; the defaults fit beside scripts/run.sh's
# database, not beside its :8080):
#   STREAMSHARE_CLUSTER_LISTEN        load balancer address   127.0.0.1:8080
#   STREAMSHARE_CLUSTER_HTTP_PORTS    instances' HTTP ports   8081,8082,8083
#   STREAMSHARE_CLUSTER_MEDIA_PORTS   instances' UDP ports    8190,8191,8192
#   STREAMSHARE_CLUSTER_METRICS_PORTS instances' /metrics     9101,9102,9103
#   STREAMSHARE_CLUSTER_REDIS_PORT    Redis                   6380
#   STREAMSHARE_CLUSTER_DB_PORT       SecantusDB              27019
#   STREAMSHARE_CLUSTER_DATA          state (db, secret)      data/cluster
#   STREAMSHARE_CLUSTER_LOGS          logs                    $STREAMSHARE_CLUSTER_DATA/logs
#   STREAMSHARE_CLUSTER_BIN           run this server binary, build none
#   STREAMSHARE_MONGODB_URI / STREAMSHARE_REDIS_URL
#       use that database / Redis instead of starting one
# Any other STREAMSHARE_* variable (e.g. STREAMSHARE_MEDIA_PUBLIC_IP,
# STREAMSHARE_TURN_URLS) reaches every instance unchanged.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

LB=nginx
PROFILE=release
WEB_BUILD=1
SERVE_ARGS=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --lb) LB="${2:-}"; shift 2 ;;
    --lb=*) LB="${1#--lb=}"; shift ;;
    --debug) PROFILE=debug; shift ;;
    --no-web-build) WEB_BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; SERVE_ARGS=("$@"); break ;;
    *) log "unknown argument: $1 (see --help)"; exit 2 ;;
  esac
done
case "$LB" in
  nginx|haproxy) ;;
  *) log "--lb must be nginx or haproxy, not '$LB'"; exit 2 ;;
esac

IDS=(a b c)
LISTEN="${STREAMSHARE_CLUSTER_LISTEN:-127.0.0.1:8080}"
IFS=, read -r -a HTTP_PORTS <<<"${STREAMSHARE_CLUSTER_HTTP_PORTS:-8081,8082,8083}"
IFS=, read -r -a MEDIA_PORTS <<<"${STREAMSHARE_CLUSTER_MEDIA_PORTS:-8190,8191,8192}"
IFS=, read -r -a METRICS_PORTS <<<"${STREAMSHARE_CLUSTER_METRICS_PORTS:-9101,9102,9103}"
REDIS_PORT="${STREAMSHARE_CLUSTER_REDIS_PORT:-6380}"
DB_PORT="${STREAMSHARE_CLUSTER_DB_PORT:-27019}"
DATA="${STREAMSHARE_CLUSTER_DATA:-$ROOT/data/cluster}"
for list in HTTP_PORTS MEDIA_PORTS METRICS_PORTS; do
  declare -n ports="$list"
  if [ "${#ports[@]}" -ne "${#IDS[@]}" ]; then
    log "STREAMSHARE_CLUSTER_${list}: ${#IDS[@]} comma-separated ports, one per instance (${IDS[*]})"
    exit 2
  fi
  unset -n ports
done
case "$LISTEN" in
  *:*) LB_PORT="${LISTEN##*:}" ;;
  *) LB_PORT="$LISTEN" ;;
esac
case "$LISTEN" in
  0.0.0.0:*|\[::\]:*|"$LB_PORT") LB_HOST=127.0.0.1 ;;
  *) LB_HOST="${LISTEN%:*}" ;;
esac
LB_URL="http://$LB_HOST:$LB_PORT"

# --- what is needed -------------------------------------------------------
command -v curl >/dev/null 2>&1 || apt_need curl
[ -n "${STREAMSHARE_REDIS_URL:-}" ] || command -v redis-server >/dev/null 2>&1 || apt_need redis-server
# nginx and haproxy live in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
command -v "$LB" >/dev/null 2>&1 || apt_need "$LB"

if [ "$WEB_BUILD" -eq 1 ]; then
  ensure_node
  npm_ready "$ROOT/web"
  log "building the web app"
  (cd web && npm run --silent build)
fi
WEB_DIR="${STREAMSHARE_WEB_DIR:-$ROOT/web/dist}"
if [ ! -f "$WEB_DIR/index.html" ]; then
  log "no built web app in $WEB_DIR (run without --no-web-build, or cd web && npm run build)"
  exit 1
fi

if [ -n "${STREAMSHARE_CLUSTER_BIN:-}" ]; then
  BIN="$STREAMSHARE_CLUSTER_BIN"
else
  ensure_rust
  TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
  if [ "$PROFILE" = release ]; then
    log "building the server (release)"
    cargo build --release --locked --bin streamshare
  else
    log "building the server (debug)"
    cargo build --locked --bin streamshare
  fi
  BIN="$TARGET/$PROFILE/streamshare"
fi
[ -x "$BIN" ] || { log "no server binary at $BIN"; exit 1; }

LOGS="${STREAMSHARE_CLUSTER_LOGS:-$DATA/logs}"
mkdir -p "$DATA" "$LOGS"
DATA="$(cd "$DATA" && pwd)"
LOGS="$(cd "$LOGS" && pwd)"

# One JWT secret for every instance, made once and kept in the data folder.
if [ -z "${STREAMSHARE_JWT_SECRET:-}" ]; then
  if [ ! -s "$DATA/jwt-secret" ]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$DATA/jwt-secret")
  fi
  STREAMSHARE_JWT_SECRET="$(cat "$DATA/jwt-secret")"
fi
export STREAMSHARE_JWT_SECRET

# --- processes and their end ---------------------------------------------
# name -> pid of everything started here, stopped in reverse order.
NAMES=()
PIDS=()
STOPPING=0

started() { NAMES+=("$1"); PIDS+=("$2"); }

alive() { kill -0 "$1" 2>/dev/null; }

stop_pid() { # stop_pid NAME PID GRACE_SECONDS
  local name="$1" pid="$2" grace="$3" waited=0
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  while alive "$pid" && [ "$waited" -lt $((grace * 5)) ]; do
    sleep 0.2
    waited=$((waited + 1))
  done
  if alive "$pid"; then
    log "$name did not stop within ${grace}s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  [ "$STOPPING" -eq 1 ] && return 0
  STOPPING=1
  trap '' INT TERM
  log "stopping the cluster"
  local i
  # The load balancer first (no new requests), then every instance at once
  # (each tells its clients and ends its live sessions, within 10 s), then
  # Redis and the database they needed for that.
  for i in "${!NAMES[@]}"; do
    case "${NAMES[$i]}" in lb) stop_pid lb "${PIDS[$i]}" 5 ;; esac
  done
  for i in "${!NAMES[@]}"; do
    case "${NAMES[$i]}" in instance-*) alive "${PIDS[$i]}" && kill -TERM "${PIDS[$i]}" 2>/dev/null ;; esac
  done
  for i in "${!NAMES[@]}"; do
    case "${NAMES[$i]}" in instance-*) stop_pid "${NAMES[$i]}" "${PIDS[$i]}" 12 ;; esac
  done
  for i in "${!NAMES[@]}"; do
    case "${NAMES[$i]}" in redis|secantusd) stop_pid "${NAMES[$i]}" "${PIDS[$i]}" 10 ;; esac
  done
  log "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_ready NAME PID SECONDS COMMAND...: until COMMAND succeeds; fails early
# (with the log's tail) if the process is gone.
wait_ready() {
  local name="$1" pid="$2" limit="$3" waited=0
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      log "$name exited; the end of $LOGS/$name.log:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    waited=$((waited + 1))
    if [ "$waited" -gt $((limit * 5)) ]; then
      log "$name not ready after ${limit}s; the end of $LOGS/$name.log:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

need_free_port() { # need_free_port PORT WHAT
  port_free "$1" || { log "port $1 ($2) is taken: set the STREAMSHARE_CLUSTER_* variable for it (see --help)"; exit 1; }
}

# --- database --------------------------------------------------------------
if [ -z "${STREAMSHARE_MONGODB_URI:-}" ]; then
  ensure_secantus
  need_free_port "$DB_PORT" "SecantusDB, STREAMSHARE_CLUSTER_DB_PORT"
  mkdir -p "$DATA/db"
  log "starting SecantusDB on 127.0.0.1:$DB_PORT (data in $DATA/db)"
  secantusd-py --host 127.0.0.1 --port "$DB_PORT" --storage-path "$DATA/db" \
    --log-level WARNING >>"$LOGS/secantusd.log" 2>&1 &
  started secantusd $!
  wait_ready secantusd "$!" 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$DB_PORT"
  export STREAMSHARE_MONGODB_URI="mongodb://127.0.0.1:$DB_PORT"
fi

# --- Redis -------------------------------------------------------------------
if [ -z "${STREAMSHARE_REDIS_URL:-}" ]; then
  need_free_port "$REDIS_PORT" "Redis, STREAMSHARE_CLUSTER_REDIS_PORT"
  mkdir -p "$DATA/redis"
  log "starting Redis on 127.0.0.1:$REDIS_PORT (in memory only)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$DATA/redis" --daemonize no --protected-mode yes >>"$LOGS/redis.log" 2>&1 &
  started redis $!
  wait_ready redis "$!" 20 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
  export STREAMSHARE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
fi

# --- instances -------------------------------------------------------------
SHARDS="${STREAMSHARE_MEDIA_SHARDS:-1}"
INSTANCE_PIDS=()
for i in "${!IDS[@]}"; do
  id="${IDS[$i]}"
  need_free_port "${HTTP_PORTS[$i]}" "instance $id, STREAMSHARE_CLUSTER_HTTP_PORTS"
  need_free_port "${METRICS_PORTS[$i]}" "instance $id metrics, STREAMSHARE_CLUSTER_METRICS_PORTS"
  mkdir -p "$DATA/instance-$id"
  log "starting instance $id on 127.0.0.1:${HTTP_PORTS[$i]} (media UDP ${MEDIA_PORTS[$i]}$([ "$SHARDS" -gt 1 ] && echo "-$((MEDIA_PORTS[i] + SHARDS - 1))"))"
  env \
    STREAMSHARE_INSTANCE_ID="$id" \
    STREAMSHARE_HTTP_ADDR="127.0.0.1:${HTTP_PORTS[$i]}" \
    STREAMSHARE_INTERNAL_URL="http://127.0.0.1:${HTTP_PORTS[$i]}" \
    STREAMSHARE_METRICS_ADDR="127.0.0.1:${METRICS_PORTS[$i]}" \
    STREAMSHARE_MEDIA_UDP_PORT="${MEDIA_PORTS[$i]}" \
    STREAMSHARE_TRUSTED_PROXIES=127.0.0.1/32 \
    NO_COLOR="${NO_COLOR:-1}" \
    STREAMSHARE_DATA_DIR="$DATA/instance-$id" \
    STREAMSHARE_WEB_DIR="$WEB_DIR" \
    STREAMSHARE_PUBLIC_URL="${STREAMSHARE_PUBLIC_URL:-$LB_URL}" \
    "$BIN" serve ${SERVE_ARGS[@]+"${SERVE_ARGS[@]}"} >>"$LOGS/instance-$id.log" 2>&1 &
  started "instance-$id" $!
  INSTANCE_PIDS+=("$!")
done
for i in "${!IDS[@]}"; do
  wait_ready "instance-${IDS[$i]}" "${INSTANCE_PIDS[$i]}" 90 \
    curl -fsS -o /dev/null "http://127.0.0.1:${HTTP_PORTS[$i]}/api/health/ready"
done

# --- load balancer -----------------------------------------------------------
# The deploy/ file with this run's ports and paths; each replacement is
# checked, so a change to the file that breaks one is an error, not a
# silently different setup.
render() { # render SOURCE DEST SED_EXPRESSION... ; then every expected text must be in DEST
  local src="$1" dest="$2"
  shift 2
  local args=()
  local expr
  for expr in "$@"; do args+=(-e "$expr"); done
  sed "${args[@]}" "$src" >"$dest"
}
expect_in() { # expect_in FILE TEXT...
  local file="$1" text
  shift
  for text in "$@"; do
    grep -qF -- "$text" "$file" || { log "rendering $file failed: '$text' missing (was deploy/ changed?)"; exit 1; }
  done
}
upstream_exprs=()
upstream_texts=()
for i in "${!IDS[@]}"; do
  upstream_exprs+=("s|127\.0\.0\.1:808$((i + 1))\([^0-9]\)|127.0.0.1:@${IDS[$i]}@\1|g")
done
for i in "${!IDS[@]}"; do
  upstream_exprs+=("s|@${IDS[$i]}@|${HTTP_PORTS[$i]}|g")
  upstream_texts+=("127.0.0.1:${HTTP_PORTS[$i]}")
done

mkdir -p "$DATA/lb"
if [ "$LB" = nginx ]; then
  CONF="$DATA/lb/nginx.conf"
  render "$ROOT/deploy/nginx-cluster.conf" "$CONF" \
    "${upstream_exprs[@]}" \
    "s|^\( *\)listen 8080;|\1listen $LISTEN;|" \
    "s|^pid .*;|pid $DATA/lb/nginx.pid;|" \
    "s|/var/log/nginx/streamshare-error.log|stderr|" \
    "s|/var/log/nginx/streamshare-access.log|$LOGS/lb-access.log|" \
    "s|/var/lib/nginx/streamshare-|$DATA/lb/|"
  expect_in "$CONF" "${upstream_texts[@]}" "listen $LISTEN;" "pid $DATA/lb/nginx.pid;" "error_log stderr" "$DATA/lb/proxy"
  need_free_port "$LB_PORT" "the load balancer, STREAMSHARE_CLUSTER_LISTEN"
  nginx -t -q -p "$DATA/lb/" -e stderr -c "$CONF"
  log "starting nginx on $LISTEN ($CONF)"
  nginx -p "$DATA/lb/" -e stderr -c "$CONF" -g 'daemon off;' >>"$LOGS/lb.log" 2>&1 &
  started lb $!
else
  CONF="$DATA/lb/haproxy.cfg"
  render "$ROOT/deploy/haproxy-cluster.cfg" "$CONF" \
    "${upstream_exprs[@]}" \
    "s|^\( *\)bind :8080$|\1bind $LISTEN|" \
    "s|^\( *\)log /dev/log local0$|\1log stdout format raw local0|"
  expect_in "$CONF" "${upstream_texts[@]}" "bind $LISTEN" "log stdout format raw"
  need_free_port "$LB_PORT" "the load balancer, STREAMSHARE_CLUSTER_LISTEN"
  haproxy -q -c -f "$CONF"
  log "starting HAProxy on $LISTEN ($CONF)"
  haproxy -db -f "$CONF" >>"$LOGS/lb.log" 2>&1 &
  started lb $!
fi
LB_PID=$!
wait_ready lb "$LB_PID" 20 curl -fsS -o /dev/null "$LB_URL/api/health/ready"
# Every instance answers through the load balancer (HAProxy: once its
# health checks have seen each; nginx: by hash, so this only checks that
# some answer).
if [ "$LB" = haproxy ]; then
  for id in "${IDS[@]}"; do
    wait_ready lb "$LB_PID" 20 bash -c \
      "curl -fsS -o /dev/null -D - -b ss_lb=$id '$LB_URL/api/health/ready' | grep -qi '^x-streamshare-upstream: $id'"
  done
fi

cat >&2 <<EOF

StreamShare cluster ready on $LB_URL ($LB: $CONF)
  instances   a, b, c on 127.0.0.1:${HTTP_PORTS[0]}, ${HTTP_PORTS[1]}, ${HTTP_PORTS[2]} (${BIN})
  media (UDP) ${MEDIA_PORTS[*]} (straight from browsers, not through $LB)
  metrics     http://127.0.0.1:${METRICS_PORTS[0]}/metrics, :${METRICS_PORTS[1]}, :${METRICS_PORTS[2]}
  Redis       $STREAMSHARE_REDIS_URL
  MongoDB     $STREAMSHARE_MONGODB_URI
  data        $DATA (JWT secret in $DATA/jwt-secret)
  logs        $LOGS (tail -F $LOGS/*.log)
Ctrl-C stops everything.
EOF
echo "cluster ready $LB_URL"

# Until Ctrl-C or SIGTERM (the traps exit, and cleanup runs), or until a
# part everything needs is gone. An instance that exits is reported and the
# others keep serving (that is what a cluster is for).
WATCH=("${PIDS[@]}")
while [ "${#WATCH[@]}" -gt 0 ]; do
  exited=""
  wait -n -p exited "${WATCH[@]}" || true
  [ -n "$exited" ] || continue
  remaining=()
  for pid in "${WATCH[@]}"; do
    [ "$pid" = "$exited" ] || remaining+=("$pid")
  done
  WATCH=("${remaining[@]}")
  for i in "${!PIDS[@]}"; do
    [ "${PIDS[$i]}" = "$exited" ] || continue
    case "${NAMES[$i]}" in
      instance-*) log "${NAMES[$i]} exited (see $LOGS/${NAMES[$i]}.log); the others keep serving" ;;
      *)
        log "${NAMES[$i]} exited (see $LOGS/${NAMES[$i]}.log): stopping the cluster"
        exit 1
        ;;
    esac
  done
done
