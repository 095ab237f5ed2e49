#!/usr/bin/env bash
# Install Debian's HAProxy when missing (`make run` on several cores and `make scale` need it).
# Only the binary is used: the Debian service stays stopped; scripts/haproxy.sh starts its own.
set -euo pipefail
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  echo "==> Installation du paquet Debian haproxy" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # policy-rc.d-free: the package's own service is not wanted; stop it if the package started it.
  $sudo apt-get install -y -qq haproxy >/dev/null
  $sudo systemctl disable --now haproxy >/dev/null 2>&1 || $sudo service haproxy stop >/dev/null 2>&1 || true
fi
