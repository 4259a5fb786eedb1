#!/usr/bin/env bash
# End-to-end tests of the gateway with the official Python SDKs.
#
#   cargo build -p switchboard          # the suite builds nothing itself
#   bash tests/sdk/run.sh               # everything
#   bash tests/sdk/run.sh -m anthropic  # only the Anthropic SDK tests
#   bash tests/sdk/run.sh -m "not anthropic and not upstream"
#   bash tests/sdk/run.sh -k stream     # any pytest arguments
#
# Creates (or reuses) a virtualenv at .venv-sdk in the workspace root and
# installs tests/sdk/requirements.txt into it. Environment:
#   SWITCHBOARD_BIN   gateway binary (default target/debug/switchboard)
#   SDK_VENV          virtualenv path (default .venv-sdk)
#   PYTHON            interpreter that creates the virtualenv (default python3)
# The exit code is pytest's: non-zero when a test fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${SDK_VENV:-$root/.venv-sdk}"
python="${PYTHON:-python3}"
requirements="$root/tests/sdk/requirements.txt"

bin="${SWITCHBOARD_BIN:-target/debug/switchboard}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
if [ ! -x "$bin" ]; then
  echo "tests/sdk/run.sh: no gateway binary at $bin: run \`cargo build -p switchboard\` first (or set SWITCHBOARD_BIN)" >&2
  exit 2
fi
export SWITCHBOARD_BIN="$bin"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
# Reinstall only when the requirements changed since the last install.
stamp="$venv/.sdk-requirements"
if ! cmp -s "$requirements" "$stamp"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

cd "$root/tests/sdk"
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the work tree
exec "$venv/bin/python" -m pytest -q "$@"
