#!/usr/bin/env bash
# Run every test: helper unit tests, every chapter executed with nbval in the quick profile,
# then a strict book build (-W -n --keep-going) and the checks on the built HTML.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
export BOOK_PROFILE=quick
export MPLBACKEND=Agg
start=$(date +%s)

say "1/3 unit tests (helpers, notebooks' hygiene, book tooling)"
python -m pytest tests/unit -q -p no:cacheprovider

say "2/3 every chapter executed in the quick profile (nbval)"
python -m pytest --nbval-lax --nbval-current-env -q -p no:cacheprovider notebooks

say "3/3 strict book build in the quick profile, then the built pages"
python -m pytest tests/book -q -p no:cacheprovider -x
say "all tests passed in $(( $(date +%s) - start )) s"
