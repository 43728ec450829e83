#!/usr/bin/env bash
# Creates bindings/python/.venv (gitignored), installs maturin, cffi, pytest, pywa, httpx and
# cryptography from PyPI, builds and installs the package from source, and runs pytest.
# Respects CARGO_TARGET_DIR. Extra arguments go to pytest.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "maturin>=1.9,<2" "cffi>=1.17" pytest pywa httpx cryptography fastapi uvicorn

# Build and install exactly as a user would (`pip install ./bindings/python`), but reuse the
# venv's maturin and cffi instead of fetching them again.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps "$HERE"

cd "$HERE"
exec "$VENV/bin/python" -m pytest tests "$@"
