#!/usr/bin/env bash
# Installs the Debian 12 packages reckon builds and tests with. Idempotent; run as root.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libcurl4-openssl-dev nlohmann-json3-dev libsqlite3-dev libeigen3-dev libssl-dev
      libcli11-dev catch2 libcpp-httplib-dev libmimalloc-dev libsimdjson-dev sqlite3 zlib1g-dev python3 libxml2-utils bubblewrap)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
