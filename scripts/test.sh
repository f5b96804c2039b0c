#!/usr/bin/env bash
# Run every test: helper unit tests, every chapter executed with nbval in the quick profile,
# then a strict book build (-W -n --keep-going) and the checks on the built HTML.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
export BOOK_PROFILE=quick
# No MPLBACKEND for the notebooks: with MPLBACKEND=Agg their kernels draw no inline figure, and
# the nbval outputs feed the book build (step 3). The unit tests get Agg explicitly.
unset MPLBACKEND
start=$(date +%s)

say "1/3 unit tests (helpers, notebooks' hygiene, book tooling)"
MPLBACKEND=Agg python -m pytest tests/unit -q -p no:cacheprovider

say "2/3 every chapter executed in the quick profile (nbval)"
# tests/nbval_cache.py hands the executed notebooks to the build's jupyter-cache (step 3),
# so the strict build renders them instead of executing every chapter a second time.
export BOOK_NBVAL_CACHE="$PWD/_build/quick/_build/.jupyter_cache"
python -m pytest --nbval-lax --nbval-current-env -q -p no:cacheprovider -p tests.nbval_cache \
  notebooks $(ls book/*.ipynb 2>/dev/null)

say "3/3 strict book build in the quick profile, then the built pages (in Chromium, offline)"
# The browser tests drive Debian's chromium; on Debian as root, install it when missing.
# Elsewhere, without it, they are skipped and the summary (-rs) says why.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 &&
   grep -qs "^ID=debian" /etc/os-release; then
  say "installing Debian's chromium for the browser tests"
  apt-get install -y -q chromium >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } ||
    say "apt-get could not install chromium: the browser tests will be skipped"
fi
python -m pytest tests/book -q -rs -p no:cacheprovider -x
say "all tests passed in $(( $(date +%s) - start )) s"
