#!/usr/bin/env bash
# Prepares the benchmark peers, idempotently:
#   - installs the runtime libraries the unpacked peers need and iperf3 (apt);
#   - `apt-get download`s vsftpd, pure-ftpd, proftpd and unpacks them with
#     `dpkg -x` into bench/.work/peers (they conflict as installed packages);
#   - creates the system user ftpbench with one sha512-crypt hash, shared by
#     every server (system shadow for vsftpd, AuthUserFile for ProFTPD, PureDB
#     for pure-ftpd, users.toml for ftpsd);
#   - generates one ECDSA P-256 self-signed certificate for all servers;
#   - creates the data files (sizes from the environment, see below);
#   - renders the configurations from bench/peers/*.in into bench/.work/etc.
# Environment: BENCH_QUICK=1 (small sizes), or each size: BENCH_BIG_MB (1024),
# BENCH_CONC_MB (10), BENCH_SMALL_COUNT (2000),
# BENCH_LIST_COUNT (20000).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$(dirname "$here")
work=${BENCH_WORK:-$bench/.work}
# shellcheck source=ports.env
source "$here/ports.env"

if [[ ${BENCH_QUICK:-0} != 0 ]]; then
  d_big=64 d_conc=1 d_small=100 d_list=2000
else
  d_big=1024 d_conc=10 d_small=2000 d_list=20000
fi
big_mb=${BENCH_BIG_MB:-$d_big}
conc_mb=${BENCH_CONC_MB:-$d_conc}
small_count=${BENCH_SMALL_COUNT:-$d_small}
list_count=${BENCH_LIST_COUNT:-$d_list}

log() { printf '[setup] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh must run as root (it creates a system user and a PAM service)" >&2
  exit 1
fi

mkdir -p "$work"/{debs,peers,etc,tls,run,logs,data} "$work/run/vsftpd-empty"
chmod 755 "$work" "$work/run/vsftpd-empty"

# --- apt: runtime libraries of the unpacked peers, tools --------------------
need=()
for p in libwrap0 libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libsodium23 \
         libcap2 libpam-modules iperf3 openssl curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- peers: download and unpack ----------------------------------------------
pkgs=(vsftpd pure-ftpd pure-ftpd-common proftpd-core proftpd-mod-crypto)
stamp="$work/peers/.unpacked"
if [[ ! -f $stamp ]]; then
  missing=()
  for p in "${pkgs[@]}"; do
    compgen -G "$work/debs/${p}_*.deb" >/dev/null || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt-get download ${missing[*]}"
    chmod 777 "$work/debs"   # apt's _apt user writes the files
    (cd "$work/debs" && apt-get download "${missing[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    for p in "${missing[@]}"; do
      compgen -G "$work/debs/${p}_*.deb" >/dev/null || { apt-get update -qq; (cd "$work/debs" && apt-get download "$p"); }
    done
  fi
  for p in "${pkgs[@]}"; do
    dpkg -x "$work/debs/${p}"_*.deb "$work/peers"
  done
  touch "$stamp"
fi
for b in usr/sbin/vsftpd usr/sbin/pure-ftpd usr/sbin/proftpd usr/bin/pure-pw usr/lib/proftpd/mod_tls.so; do
  [[ -e $work/peers/$b ]] || { echo "missing $work/peers/$b after unpacking" >&2; exit 1; }
done
if ldd "$work/peers/usr/sbin/proftpd" "$work/peers/usr/sbin/vsftpd" "$work/peers/usr/sbin/pure-ftpd" | grep -q 'not found'; then
  ldd "$work/peers/usr/sbin/proftpd" "$work/peers/usr/sbin/vsftpd" "$work/peers/usr/sbin/pure-ftpd" | grep 'not found' >&2
  exit 1
fi

# --- user, password hash, PAM service ----------------------------------------
if [[ ! -s $work/etc/password.hash ]]; then
  openssl passwd -6 "$BENCH_PASS" >"$work/etc/password.hash"
fi
hash=$(cat "$work/etc/password.hash")
data="$work/data"
if ! getent passwd "$BENCH_USER" >/dev/null; then
  log "creating system user $BENCH_USER"
  useradd --system --user-group --no-create-home --home-dir "$data" --shell /usr/sbin/nologin "$BENCH_USER"
fi
usermod -d "$data" -p "$hash" "$BENCH_USER"
uid=$(id -u "$BENCH_USER")
gid=$(id -g "$BENCH_USER")
pam="/etc/pam.d/$PAM_SERVICE"
pam_text=$'# ftpsd benchmark (bench/peers/setup.sh): vsftpd authenticates the\n# ftpbench user against the shadow hash, nothing else.\nauth     required pam_unix.so\naccount  required pam_unix.so\nsession  required pam_permit.so\n'
if [[ ! -f $pam ]] || [[ $(cat "$pam") != "${pam_text%$'\n'}" ]]; then
  printf '%s' "$pam_text" >"$pam"
fi

# --- certificate: one ECDSA P-256 self-signed certificate --------------------
cert="$work/tls/cert.pem"
key="$work/tls/key.pem"
if [[ ! -s $cert || ! -s $key ]]; then
  log "generating the ECDSA P-256 certificate"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$key" -out "$cert" 2>/dev/null
fi
chown root:"$BENCH_USER" "$key" "$cert"
chmod 640 "$key"
chmod 644 "$cert"

# --- data ----------------------------------------------------------------------
mkfile() { # name size_bytes
  local f="$data/$1"
  if [[ ! -f $f || $(stat -c %s "$f") -ne $2 ]]; then
    log "creating $1 ($2 bytes)"
    head -c "$2" /dev/urandom >"$f.tmp" && mv "$f.tmp" "$f"
  fi
}
mkfile "big-${big_mb}M.bin" $((big_mb * 1024 * 1024))
mkfile "conc-${conc_mb}M.bin" $((conc_mb * 1024 * 1024))
small="$data/small-$small_count"
if [[ ! -f $small/.done ]]; then
  log "creating $small_count files of 4 KiB"
  rm -rf "$small" && mkdir -p "$small"
  head -c $((4096 * small_count)) /dev/urandom | (cd "$small" && split -b 4096 -d -a 5 - f)
  touch "$small/.done"
fi
list="$data/list-$list_count"
if [[ ! -f $list/.done ]]; then
  log "creating a folder of $list_count entries"
  rm -rf "$list" && mkdir -p "$list"
  (cd "$list" && seq -f "entry-%06g.dat" 0 $((list_count - 1)) | xargs touch)
  touch "$list/.done"
fi
mkdir -p "$data/up"
chown -R "$BENCH_USER:$BENCH_USER" "$data"
chmod 755 "$data"

# --- configurations ------------------------------------------------------------
render() { # template output port pasv
  local min=${4%-*} max=${4#*-}
  sed -e "s|@PORT@|$3|g" -e "s|@PASV_MIN@|$min|g" -e "s|@PASV_MAX@|$max|g" \
      -e "s|@WORK@|$work|g" -e "s|@DATA@|$data|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" \
      -e "s|@USER@|$BENCH_USER|g" -e "s|@PAM_SERVICE@|$PAM_SERVICE|g" \
      -e "s|@PEERS_ROOT@|$work/peers|g" -e "s|@HASH@|${hash//|/\\|}|g" \
      -e "s|@FSYNC@|${FSYNC:-false}|g" \
      "$here/$1" >"$work/etc/$2"
}
render vsftpd.conf.in vsftpd.conf "$VSFTPD_PORT" "$VSFTPD_PASV"
render proftpd.conf.in proftpd.conf "$PROFTPD_PORT" "$PROFTPD_PASV"
render pure-ftpd.args.in pure-ftpd.args "$PUREFTPD_PORT" "$PUREFTPD_PASV"
render ftpsd.toml.in ftpsd.toml "$FTPSD_PORT" "$FTPSD_PASV"
FSYNC=true render ftpsd.toml.in ftpsd-fsync.toml "$FTPSD_FSYNC_PORT" "$FTPSD_FSYNC_PASV"
render ftpsd-users.toml.in ftpsd-users.toml "$FTPSD_PORT" "$FTPSD_PASV"
chmod 644 "$work/etc/"*.conf "$work/etc/"*.toml "$work/etc/pure-ftpd.args"

# ProFTPD: AuthUserFile/AuthGroupFile in passwd/group format (must not be
# world-writable).
printf '%s:%s:%s:%s::%s:/usr/sbin/nologin\n' "$BENCH_USER" "$hash" "$uid" "$gid" "$data" \
  >"$work/etc/proftpd.passwd"
printf '%s:x:%s:\n' "$BENCH_USER" "$gid" >"$work/etc/proftpd.group"
chmod 600 "$work/etc/proftpd.passwd"
chmod 644 "$work/etc/proftpd.group"

# pure-ftpd: PureDB built by pure-pw from a passwd file holding the same hash.
# Format: login:hash:uid:gid:gecos:home/./ then the optional limit fields.
printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$BENCH_USER" "$hash" "$uid" "$gid" "$data" \
  >"$work/etc/pureftpd.passwd"
chmod 600 "$work/etc/pureftpd.passwd"
"$work/peers/usr/bin/pure-pw" mkdb "$work/etc/pureftpd.pdb" -f "$work/etc/pureftpd.passwd"

log "ready: peers in $work/peers, configurations in $work/etc, data in $data"
