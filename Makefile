# Few Labels, Many Images: the two set-up commands are `make book` and `make test`.
.PHONY: book test lab serve bench clean check-pins set-repository

book:   ## build the HTML book, every chapter executed in the full profile -> _build/html
	bash scripts/book.sh

test:   ## unit tests + every notebook in the quick profile (nbval) + strict book build
	bash scripts/test.sh

lab:    ## open the chapters in JupyterLab with the book's environment
	bash -c 'source scripts/setup.sh && jupyter lab notebooks'

serve:  ## serve the built book on http://127.0.0.1:8000
	bash -c 'source scripts/setup.sh && python -m http.server -b 127.0.0.1 -d _build/html 8000'

bench:  ## time every chapter cold/warm in both profiles; writes benchmarks/README.md
	bash -c 'source scripts/setup.sh && python benchmarks/run.py'

clean:  ## remove built pages and execution caches (keeps .venv and the model cache)
	rm -rf _build

check-pins:  ## check, without installing, that requirements.txt resolves on every supported Python (needs the package index)
	bash scripts/check_pins.sh

set-repository:  ## write _config.yml's repository.url (or URL=...) into setup cells, buttons and README badges
	python3 scripts/set_repository.py $(if $(URL),--url $(URL))
