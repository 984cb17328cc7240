#!/usr/bin/env bash
# `make run`: prepares ./run (a data folder, a demo user, a Manager account, a self-signed certificate,
# and run/ftpsd.toml: the embedded default configuration, which the Manager and `ftpsd config set` may
# change and which later runs keep) and starts ftpsd on it, in the foreground.
set -euo pipefail
bin=${1:-build/ftpsd}
cd "$(dirname "$0")/.."
mkdir -p run/data
if [ ! -f run/users.toml ]; then
  echo demo | "$bin" user add demo --root "$PWD/run/data" --write --file run/users.toml >/dev/null
fi
if [ ! -f run/admins.toml ]; then
  echo admin | "$bin" admin add admin --role admin --file run/admins.toml >/dev/null
fi
if [ ! -f run/cert.pem ]; then
  "$bin" cert self-signed --host localhost --host 127.0.0.1 --cert run/cert.pem --key run/key.pem >/dev/null
fi
[ -f run/data/README.txt ] || echo "Hello from ftpsd. Upload, rename and delete freely: this is run/data." > run/data/README.txt
[ -f run/ftpsd.toml ] || "$bin" config init run/ftpsd.toml >/dev/null
exec "$bin" run --config run/ftpsd.toml --connect-help
