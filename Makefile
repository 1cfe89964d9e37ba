# Two commands on a fresh machine with Python 3 and make:
#   make book   install, run every notebook of $(PROFILE) (default demo), build _build/html/
#   make test   install, run the unit tests and every notebook on the smoke profile
PYTHON ?= python3
PROFILE ?= demo
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.galaxysd-installed
# Two cores: give the math libraries both, and never run two heavy processes at once.
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: book run build student notebooks test install clean help

help:
	@echo "make book [PROFILE=demo|smoke|paper]   run the notebooks and build the book"
	@echo "make student                           student notebooks and book, solutions removed (student/)"
	@echo "make notebooks                         after editing notebooks/*.py: their paired .ipynb (Colab, Binder)"
	@echo "make test                              unit tests + every notebook on the smoke profile"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m galaxysd run --profile $(PROFILE)

build: $(STAMP)
	$(BIN)/python -m galaxysd build

book: $(STAMP)
	$(BIN)/python -m galaxysd book --profile $(PROFILE)

student: $(STAMP)
	$(BIN)/python -m galaxysd student --out student

notebooks: $(STAMP)
	$(BIN)/python -m galaxysd notebooks

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf _build book/notebooks student
