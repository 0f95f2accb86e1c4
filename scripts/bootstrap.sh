#!/usr/bin/env bash
# Installs what hotline12345 needs on a Debian 12 host: system packages, a Python venv with the
# project, and Asterisk 22 in its chroot. Idempotent; used by both README commands and CI.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

need=()
for cmd_pkg in debootstrap:debootstrap sipp:sip-tester espeak-ng:espeak-ng sox:sox; do
  command -v "${cmd_pkg%%:*}" >/dev/null || need+=("${cmd_pkg#*:}")
done
if ((${#need[@]})); then
  echo "[bootstrap] apt-get install ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,lint]"

scripts/asterisk.sh install
