#!/usr/bin/env bash
# Sets up what is missing, builds StreamShare and runs it on
# http://localhost:8080 (or STREAMSHARE_HTTP_ADDR). Without
# STREAMSHARE_MONGODB_URI it starts a local SecantusDB keeping its data in
# data/db (git-ignored). Unless Stripe is configured
# (STREAMSHARE_STRIPE_SECRET_KEY), it turns on the labelled TEST payment
# provider (STREAMSHARE_TEST_PAYMENTS=1; set it to 0 to keep purchases off).
# Extra arguments go to `streamshare serve`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_rust
ensure_node
npm_ready "$ROOT/web"
log "building the web app"
(cd web && npm run --silent build)
log "building the server (release)"
cargo build --release --locked --bin streamshare

DB_PID=""
cleanup() {
  if [ -n "$DB_PID" ]; then
    kill "$DB_PID" 2>/dev/null || true
    wait "$DB_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

if [ -z "${STREAMSHARE_MONGODB_URI:-}" ]; then
  ensure_secantus
  DB_PORT="${STREAMSHARE_LOCAL_DB_PORT:-27018}"
  mkdir -p data/db
  log "starting SecantusDB on 127.0.0.1:$DB_PORT (data in data/db, log in data/secantusd.log)"
  secantusd-py --host 127.0.0.1 --port "$DB_PORT" --storage-path data/db \
    --log-level WARNING >>data/secantusd.log 2>&1 &
  DB_PID=$!
  wait_for_port "$DB_PORT" 60
  export STREAMSHARE_MONGODB_URI="mongodb://127.0.0.1:$DB_PORT"
fi

if [ -z "${STREAMSHARE_STRIPE_SECRET_KEY:-}" ] && [ -z "${STREAMSHARE_TEST_PAYMENTS:-}" ]; then
  export STREAMSHARE_TEST_PAYMENTS=1
  log "coin purchases: the TEST payment provider (test money; see docs/payments.md for Stripe)"
fi

log "StreamShare on http://${STREAMSHARE_HTTP_ADDR:-127.0.0.1:8080}"
./target/release/streamshare serve "$@" &
APP_PID=$!
trap 'kill -TERM "$APP_PID" 2>/dev/null || true' INT TERM
wait "$APP_PID" || true
