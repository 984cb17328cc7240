#!/usr/bin/env bash
# Installs the Debian 12 packages ftpsd needs to build, run and test, if any is missing.
# Idempotent and quiet when everything is there; needs root (or sudo) only when it installs.
set -euo pipefail
packages=(
  build-essential clang libclang-rt-14-dev cmake ninja-build pkg-config clang-format clang-tidy
  libasio-dev libssl-dev libtomlplusplus-dev libcli11-dev libfmt-dev libspdlog-dev libcrypt-dev
  libgtest-dev libgmock-dev libsystemd-dev prometheus-cpp-dev libcpp-httplib-dev nlohmann-json3-dev libdtl-dev
  libpq-dev postgresql
  python3 python3-pytest python3-pytest-xdist python3-aioftp python3-cryptography curl lftp wget openssl
  libjs-bootstrap5 libjs-chart.js chromium chromium-driver python3-selenium
  iproute2 nftables haproxy fail2ban
  rclone libcommons-net-java openjdk-17-jdk-headless
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing missing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
