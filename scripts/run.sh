#!/usr/bin/env bash
# The README's first command: installs everything and runs the whole system on embedded defaults
# (SQLite, local Asterisk, FastAGI, call recorder, API) until Ctrl-C.
set -euo pipefail
umask 077  # the database, secrets, spools and callers' audio: this user only
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/hotline up
