#!/usr/bin/env bash
# Installs, if missing, the Debian packages the benchmark harness runs itself
# (the peers' own libraries are installed by setup.sh).
set -euo pipefail
packages=(cmake ninja-build g++ libssl-dev openssl curl iperf3 python3 procps util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "bench: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
