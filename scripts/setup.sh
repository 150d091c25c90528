#!/usr/bin/env bash
# Installs what StreamShare needs and is missing, idempotently and quickly
# when everything is there. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
# apt_need PACKAGE... installs the Debian packages that are not installed yet.
apt_need() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    log "Rust is missing: install it with rustup (https://rustup.rs), Rust 1.94 or newer"
    exit 1
  fi
  # C toolchain and headers for crates with native parts.
  command -v cc >/dev/null 2>&1 || apt_need build-essential
  command -v pkg-config >/dev/null 2>&1 || apt_need pkg-config
}

# SecantusDB: a MongoDB-wire-compatible server for local runs and tests,
# installed from PyPI into a virtualenv of the project's own.
ensure_secantus() {
  if [ ! -x "$TOOLS/venv/bin/secantusd-py" ]; then
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
      apt_need python3 python3-venv python3-pip
    fi
    log "installing SecantusDB into .tools/venv"
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check SecantusDB
  fi
  export PATH="$TOOLS/venv/bin:$PATH"
}

# aiortc (PyPI; prebuilt wheels with PyAV and libvpx): the E2EE journey's
# server-side subscriber (e2e/ciphertext-probe.py), in the same virtualenv.
ensure_aiortc() {
  ensure_secantus
  if ! "$TOOLS/venv/bin/python" -c 'import aiortc, av' >/dev/null 2>&1; then
    log "installing aiortc into .tools/venv"
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check --only-binary=:all: "aiortc==1.16.0"
  fi
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_need nodejs npm
  fi
  # Vite 8 needs Node.js 20.19 or newer (Debian 12's own nodejs is 18).
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    log "Node.js $(node --version) is too old: install Node.js 20.19 or newer (e.g. NodeSource's nodejs 20.x package)"
    exit 1
  fi
}

# npm_ready DIR: installs DIR's locked npm packages when they changed.
npm_ready() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# wait_for_port PORT SECONDS
wait_for_port() {
  local port="$1" limit="$2" waited=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    sleep 0.2
    waited=$((waited + 1))
    if [ "$waited" -gt $((limit * 5)) ]; then
      log "nothing answered on port $port after ${limit}s"
      return 1
    fi
  done
}
