#!/usr/bin/env bash
# Installs everything ambient needs on a fresh Debian machine, idempotently:
# the Rust target for Cortex-M, the Debian packages the tests use, and libtorch as the
# torch 2.13.0 Python wheel (the version tch 0.26 expects) in a virtual environment
# outside the repository, so CI and later runs reuse it.
set -euo pipefail

venv="${AMBIENT_TORCH_VENV:-/opt/ambient/torch-2.13.0}"
torch_version="2.13.0"
debian_packages=(gcc g++ make pkg-config python3-venv
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)

log() { printf 'setup: %s\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  for pkg in "${debian_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    sudo apt-get update -q && sudo apt-get install -y -q "${missing[@]}"
  else
    apt-get update -q && apt-get install -y -q "${missing[@]}"
  fi
}

install_rust_targets() {
  if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
    log "adding Rust target thumbv7em-none-eabihf"
    rustup target add thumbv7em-none-eabihf
  fi
}

installed_torch_version() {
  "$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null
}

install_torch() {
  if [[ "$(installed_torch_version || true)" == "$torch_version" ]]; then
    return
  fi
  log "installing torch $torch_version into $venv (about 5 GB with its CUDA libraries)"
  mkdir -p "$(dirname "$venv")"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q "torch==$torch_version"
  local got
  got="$(installed_torch_version || true)"
  if [[ "$got" != "$torch_version" ]]; then
    log "error: expected torch $torch_version in $venv, found '${got:-none}'"
    exit 1
  fi
}

install_debian_packages
install_rust_targets
install_torch
log "ready: torch $torch_version in $venv; run '. scripts/env.sh' before cargo"
