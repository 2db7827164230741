# Every target sets up what it needs: a fresh machine needs only python3 (and npm for document validation).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: all demo test catalog generate clean

all: test

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Scan the embedded sample snapshot. Exit 1 means "findings", which is the point of the demo.
demo: $(STAMP)
	@$(VENV)/bin/perimeter scan examples/config-snapshot.json; status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# Regenerate every committed artifact from the rule metadata.
generate: catalog
catalog: $(STAMP)
	$(PY) -m perimeter.catalog --write README.md

clean:
	rm -rf $(VENV) build dist *.egg-info
