#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests: starts the local cluster if
# it is installed but stopped, installs Debian's if there is none.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ready && exit 0
if ! command -v pg_ctlcluster >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 50); do ready && break; sleep 0.2; done
ready || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
# The tests connect as postgres without a password over TCP, as on the CI machines.
su postgres -c "psql -qc \"SELECT 1\" test" >/dev/null 2>&1 || su postgres -c "createdb test"
