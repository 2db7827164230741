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

test: $(STAMP) build/npm/.stamp
	$(PY) -m pytest -q -p no:cacheprovider

# Regenerate every committed artifact from the rule metadata.
generate: catalog
catalog: $(STAMP)
	$(PY) -m perimeter.catalog --write README.md

clean:
	rm -rf $(VENV) build dist *.egg-info

# The SSM Automation document schema for tests/ssm/validator.py ships in this npm package (dist/schema.json);
# the validator reads it from build/npm and applies its own overlay. 1.0.0 is the only published version.
SSM_SCHEMA_PACKAGE := aws-ssm-document-language-service@1.0.0
build/npm/.stamp: Makefile
	mkdir -p build/npm
	npm install --prefix build/npm --no-audit --no-fund $(SSM_SCHEMA_PACKAGE)
	touch $@
