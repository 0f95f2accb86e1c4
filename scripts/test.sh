#!/usr/bin/env bash
# The README's second command: installs everything (system packages, Python venv, Asterisk chroot)
# and runs the whole test suite against real Asterisk, SIPp and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/ensure-postgres.sh
exec .venv/bin/python -m pytest -ra "$@"
