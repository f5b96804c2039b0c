#!/usr/bin/env bash
# Prepare everything the book needs; meant to be *sourced* by scripts/book.sh and scripts/test.sh.
#   1. a Python environment: the active virtualenv if there is one, else ./.venv (created if missing);
#   2. the pinned requirements (re-installed only when requirements.txt changes) and `helpers`;
#   3. the data: found offline, or (Debian, as root) installed from the dataset-fashion-mnist package.
# After sourcing, $PY is the Python to use and the environment's bin/ is first on PATH.
# Supported: Python 3.11, 3.12, 3.13 (BOOK_PYTHONS below). BOOK_PYTHON=/path/to/python3.X picks the
# interpreter for a new .venv. `BOOK_SETUP_DRY_RUN=1 bash scripts/setup.sh` only says which Python it
# would use (or why none fits) and exits, installing nothing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || return 1 2>/dev/null || exit 1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# The Pythons the book supports, newest first. TensorFlow 2.21 publishes wheels up to Python 3.13, and
# the other pins (NumPy 2.4, Keras 3.15, sphinx-book-theme 1.3) need 3.11 or newer. Keep in step with
# pyproject.toml, scripts/check_pins.sh, README.md and the CI matrix (tests/unit/test_setup.py checks).
BOOK_PYTHONS="3.13 3.12 3.11"

py_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
is_supported() { case " $BOOK_PYTHONS " in *" $1 "*) return 0 ;; esac; return 1; }

# The interpreter for a new .venv: $BOOK_PYTHON if set, else the newest supported python3.X, python3 or
# python on PATH (a command that exists but does not run, such as an unselected pyenv shim, is skipped).
pick_python() {
  local cand v
  if [ -n "${BOOK_PYTHON:-}" ]; then
    v="$(py_version "$BOOK_PYTHON")" && is_supported "$v" && { echo "$BOOK_PYTHON"; return 0; }
    return 1
  fi
  for cand in $(for v in $BOOK_PYTHONS; do printf 'python%s ' "$v"; done) python3 python; do
    command -v "$cand" >/dev/null 2>&1 || continue
    v="$(py_version "$cand")" && is_supported "$v" && { echo "$cand"; return 0; }
  done
  return 1
}

supported_text() {  # "3.11, 3.12 or 3.13"
  local v text=""
  for v in $BOOK_PYTHONS; do text="$v${text:+, $text}"; done
  echo "${text%, *} or ${text##*, }"
}

# Every Python on PATH with its version, for the message below: "python3 (3.14), python3.10 (3.10)".
pythons_found() {
  local cand v found=""
  for cand in python3 python python3.{6..20}; do
    command -v "$cand" >/dev/null 2>&1 || continue
    v="$(py_version "$cand")" || continue
    found="${found:+$found, }$cand ($v)"
  done
  echo "${found:-none}"
}

# What to do when no supported Python is there: which versions were found, which are needed and why,
# and ways to install one next to the system's Python (nothing is replaced).
no_python_help() {  # $1: the first line (default: none was found)
  local want newest="${BOOK_PYTHONS%% *}" system v
  want="$(supported_text)"
  system="$(uname -s 2>/dev/null)" || system=""
  {
    echo "${1:-The book needs Python $want, and none was found.}"
    if [ -n "${BOOK_PYTHON:-}" ]; then
      if v="$(py_version "$BOOK_PYTHON")"; then echo "  BOOK_PYTHON=$BOOK_PYTHON runs Python $v."
      else echo "  BOOK_PYTHON=$BOOK_PYTHON does not run."; fi
    fi
    echo "  Found on PATH: $(pythons_found)."
    # pyenv may hold a supported version that is not selected here: say how to use it.
    if command -v pyenv >/dev/null 2>&1; then
      for v in $(pyenv versions --bare 2>/dev/null); do
        if is_supported "${v%.*}"; then
          echo "  pyenv has Python $v: run \`pyenv local $v\` in this folder, or set BOOK_PYTHON=$(pyenv root)/versions/$v/bin/python"
        fi
      done
    fi
    echo "  Why: TensorFlow 2.21, which the chapters train with, publishes wheels only up to Python $newest,"
    echo "  and the book's other pinned packages (NumPy 2.4, Keras 3.15, sphinx-book-theme 1.3) need 3.11+."
    echo "Install Python $newest next to the one you have (it does not replace it), in one of these ways:"
    if [ "$system" = "Darwin" ]; then
      echo "  - Homebrew:  brew install python@$newest          (or the installer from https://www.python.org/downloads/)"
    elif command -v apt-get >/dev/null 2>&1; then
      echo "  - apt:       sudo apt-get install python$newest python$newest-venv"
      echo "               (Ubuntu releases without it: sudo add-apt-repository ppa:deadsnakes/ppa first)"
    elif command -v dnf >/dev/null 2>&1; then
      echo "  - dnf:       sudo dnf install python$newest"
    fi
    echo "  - uv:        curl -LsSf https://astral.sh/uv/install.sh | sh && uv python install $newest"
    echo "               then: BOOK_PYTHON=\"\$(uv python find $newest)\" make test"
    echo "  - pyenv:     curl -fsSL https://pyenv.run | bash   (then restart the shell, see https://github.com/pyenv/pyenv)"
    echo "               pyenv install $newest && pyenv local $newest   (in this folder)"
    echo "Then run the command again; BOOK_PYTHON=/path/to/python$newest picks a particular interpreter."
  } >&2
}

if [ -n "${VIRTUAL_ENV:-}" ]; then
  ENV_DIR="$VIRTUAL_ENV"
  say "using the active virtual environment $ENV_DIR"
else
  ENV_DIR="$ROOT/.venv"
  if [ ! -x "$ENV_DIR/bin/python" ]; then
    BASE_PY="$(pick_python)" || { no_python_help; return 1 2>/dev/null || exit 1; }
    if [ "${BOOK_SETUP_DRY_RUN:-0}" = "1" ]; then
      say "dry run: would create .venv with $BASE_PY (Python $(py_version "$BASE_PY"))"
      exit 0
    fi
    say "creating .venv with $("$BASE_PY" --version 2>&1)"
    "$BASE_PY" -m venv "$ENV_DIR" || { echo "Could not create .venv (Debian/Ubuntu: apt-get install python3-venv, or python$(py_version "$BASE_PY")-venv)." >&2; return 1 2>/dev/null || exit 1; }
  fi
  export VIRTUAL_ENV="$ENV_DIR"
  export PATH="$ENV_DIR/bin:$PATH"
fi
PY="$ENV_DIR/bin/python"
export PY

# An environment made earlier with another Python (an active one, or a .venv from an older version).
ENV_VERSION="$(py_version "$PY")" || ENV_VERSION=""
if ! is_supported "$ENV_VERSION"; then
  no_python_help "The environment $ENV_DIR runs Python ${ENV_VERSION:-(it does not run)}; the book needs Python $(supported_text)."
  if [ "$ENV_DIR" = "$ROOT/.venv" ]; then
    echo "With a supported Python installed, remove .venv (rm -rf .venv) and run the command again." >&2
  else
    echo "Or deactivate this environment (deactivate): the set-up then makes .venv with a supported Python." >&2
  fi
  return 1 2>/dev/null || exit 1
fi
if [ "${BOOK_SETUP_DRY_RUN:-0}" = "1" ]; then
  say "dry run: would use $PY (Python $ENV_VERSION)"
  exit 0
fi

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
