#!/usr/bin/env bash
# The static checks (what CI runs before the tests): lint, formatting, types, import contracts.
# Each runs even when an earlier one fails; the run fails naming every check that did.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

failed=()
check() {
  local name=$1
  shift
  echo "[check] $name" >&2
  "$@" || failed+=("$name")
}

check "ruff check" "$BIN/ruff" check .
check "ruff format --check" "$BIN/ruff" format --check .
check "mypy" "$BIN/mypy"
check "lint-imports" "$BIN/lint-imports"

if ((${#failed[@]})); then
  printf '[check] FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "[check] all passed" >&2
