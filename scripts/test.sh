#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and black-box integration tests
# (a real SecantusDB is started by the tests themselves).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_rust
ensure_secantus
ensure_aiortc
ensure_node
# Coturn (Debian's `turnserver`) for the relay tests, Chromium for the
# browser journey.
command -v turnserver >/dev/null 2>&1 || apt_need coturn
command -v chromium >/dev/null 2>&1 || apt_need chromium
# Redis for the cluster-mode tests (several instances, one Redis).
command -v redis-server >/dev/null 2>&1 || apt_need redis-server
# The official socket.io-client, driven by the Rust integration tests.
npm_ready "$ROOT/crates/server/tests/socket-driver"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "web app: typecheck, lint, unit tests"
npm_ready "$ROOT/web"
(cd web && npm run --silent check)
log "cargo test"
cargo test --workspace --locked

# Benchmarks are not timed tests: CI only runs each at a tiny size so the
# load tool keeps working (docs/benchmarks.md has the real runs).
log "benchmarks at smoke size"
cargo build -p streamshare-load --locked
target/debug/streamshare-load smoke --server-bin "$ROOT/target/debug/streamshare" >/dev/null

log "end-to-end journey in Chromium"
(cd web && npm run --silent build)
npm_ready "$ROOT/e2e"
(cd e2e && STREAMSHARE_E2E_SERVER_BIN="$ROOT/target/debug/streamshare" npm test)
log "end-to-end journey through the load balancer (cluster: three instances, Redis, nginx)"
(cd e2e && STREAMSHARE_E2E_SERVER_BIN="$ROOT/target/debug/streamshare" npm run --silent test:cluster)
