#!/usr/bin/env bash
# Prepare everything the book needs; meant to be *sourced* by scripts/book.sh and scripts/test.sh.
#   1. a Python environment: the active virtualenv if there is one, else ./.venv (created if missing);
#   2. the pinned requirements (re-installed only when requirements.txt changes) and `helpers`;
#   3. the data: found offline, or (Debian, as root) installed from the dataset-fashion-mnist package.
# After sourcing, $PY is the Python to use and the environment's bin/ is first on PATH.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || return 1 2>/dev/null || exit 1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

pick_python() {
  for cand in python3.13 python3.12 python3.11 python3.10 python3 python; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

if [ -n "${VIRTUAL_ENV:-}" ]; then
  ENV_DIR="$VIRTUAL_ENV"
  say "using the active virtual environment $ENV_DIR"
else
  ENV_DIR="$ROOT/.venv"
  if [ ! -x "$ENV_DIR/bin/python" ]; then
    BASE_PY="$(pick_python)" || {
      echo "Python 3.10-3.13 is needed but none was found on PATH. Install one (e.g. from python.org" \
           "or your package manager) and run this command again." >&2
      return 1 2>/dev/null || exit 1
    }
    say "creating .venv with $("$BASE_PY" --version 2>&1)"
    "$BASE_PY" -m venv "$ENV_DIR" || { echo "Could not create .venv (Debian: apt-get install python3-venv)." >&2; return 1 2>/dev/null || exit 1; }
  fi
  export VIRTUAL_ENV="$ENV_DIR"
  export PATH="$ENV_DIR/bin:$PATH"
fi
PY="$ENV_DIR/bin/python"
export PY

# Requirements: install when requirements.txt (or pyproject.toml) changed since the last install.
STAMP="$ENV_DIR/.book-requirements.sha256"
WANT="$(cat requirements.txt pyproject.toml | "$PY" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  say "installing the pinned requirements (a few minutes the first time)"
  "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  "$PY" -m pip install -q --disable-pip-version-check -r requirements.txt || { echo "pip install failed (see above)." >&2; return 1 2>/dev/null || exit 1; }
  "$PY" -m pip install -q --disable-pip-version-check --no-deps -e . > "$ENV_DIR/.helpers-install.log" 2>&1 ||
    { cat "$ENV_DIR/.helpers-install.log"; echo "Installing helpers failed." >&2; return 1 2>/dev/null || exit 1; }
  echo "$WANT" > "$STAMP"
else
  say "requirements already installed"
fi

# Data: the default dataset must be findable offline.
if ! "$PY" -m helpers.data check >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 &&
     [ "${BOOK_DATASET:-fashion_mnist}" = "fashion_mnist" ]; then
    say "Fashion-MNIST not found: installing Debian's dataset-fashion-mnist package"
    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } ||
      say "apt-get could not install dataset-fashion-mnist"
  fi
fi
"$PY" -m helpers.data check || say "continuing: the chapters will try the Keras download as a last resort"
