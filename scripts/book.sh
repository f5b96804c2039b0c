#!/usr/bin/env bash
# Build the HTML book with every chapter executed (full profile unless BOOK_PROFILE says otherwise).
# Output: _build/html (full profile) or _build/<profile>/_build/html. Extra arguments go to jupyter-book.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
export BOOK_PROFILE="${BOOK_PROFILE:-full}"
if [ "$BOOK_PROFILE" = "full" ]; then OUT="."; else OUT="_build/$BOOK_PROFILE"; fi
say "building the book (profile $BOOK_PROFILE, dataset ${BOOK_DATASET:-fashion_mnist})"
jupyter-book build . --path-output "$OUT" "$@"
HTML="$OUT/_build/html"; HTML="${HTML#./}"
say "done: open $HTML/index.html in a browser, or serve it with: $PY -m http.server -d $HTML 8000"
