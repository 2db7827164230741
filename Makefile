# Every target sets up what it needs: a fresh machine needs only python3 and make for `make demo`; `make test`
# also needs npm (document validation) and Chromium (the dashboard's browser test); .ci/run installs Chromium.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Two stamps: what `perimeter scan` needs (boto3 only), then the test tools, rdklib and PyYAML on top.
BASE_STAMP := $(VENV)/.installed-base-stamp
STAMP := $(VENV)/.installed-stamp

# A tool that pins its own dependencies (checkov, the AWS CLI, the benchmark's peer) gets a venv of its own:
# $(call tool_venv,DIR,PACKAGES); the target is the stamp that names the versions.
define tool_venv
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet $(2)
	touch $@
endef

.PHONY: all demo test catalog generate clean screenshot

all: test

$(BASE_STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e .
	touch $(BASE_STAMP)

$(STAMP): $(BASE_STAMP)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

# Scan the embedded sample snapshot. Exit 1 means "findings", which is the point of the demo.
demo: $(BASE_STAMP)
	@$(VENV)/bin/perimeter scan examples/config-snapshot.json; status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi

# The SSM Automation document schema for tests/ssm/validator.py ships in this npm package (dist/schema.json);
# the validator reads it from build/npm and applies its own overlay. 1.0.0 is the only published version.
SSM_SCHEMA_PACKAGE := aws-ssm-document-language-service@1.0.0
SSM_SCHEMA_STAMP := build/npm/.stamp-$(SSM_SCHEMA_PACKAGE)
$(SSM_SCHEMA_STAMP):
	@command -v npm >/dev/null || { echo "npm is missing: make test needs it for $(SSM_SCHEMA_PACKAGE) (.ci/run installs it; Debian: apt-get install npm)" >&2; exit 2; }
	mkdir -p build/npm
	npm install --prefix build/npm --no-audit --no-fund $(SSM_SCHEMA_PACKAGE)
	touch $@

test: $(STAMP) $(SSM_SCHEMA_STAMP)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$PERIMETER_CHROMIUM" ] || \
	  echo "note: Chromium is missing, so the dashboard's browser tests will fail; .ci/run installs it" >&2
	$(PY) -m pytest -q -p no:cacheprovider

# The README's dashboard screenshot: examples/organization-query.json rendered and photographed by headless Chromium.
screenshot: $(STAMP)
	$(PY) tests/browser.py docs/dashboard.png

# The hypothesis fuzz suite with the "perimeter-fuzz" profile: at least 10,000 random examples per rule (make test
# runs a few hundred, derandomized). No example database is kept (database=None).
.PHONY: fuzz
fuzz: $(STAMP)
	PERIMETER_FUZZ=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py --hypothesis-show-statistics

# Regenerate every committed artifact from the rules' declarations (rules/*/declaration.py).
generate: rdk catalog templates
.PHONY: rdk
rdk: $(STAMP)
	$(PY) -m perimeter.rdk --write
catalog: $(STAMP)
	$(PY) -m perimeter.catalog --write README.md

clean:
	rm -rf $(VENV) build dist *.egg-info


# --- Deployment artifacts (issue 5) ---------------------------------------------------------------------------
.PHONY: package templates deploy

# The one Lambda zip of the pack: the import closure of the functions' handlers, from the files git tracks, plus
# rdklib (boto3 comes from the runtime), and their bytecode compiled by a Python of the rules' runtime version
# (python3.12: found on PATH or in pyenv, or RUNTIME_PYTHON=/path/to/python3.12; without one the zip ships sources
# only and the build says so); byte-identical per tree.
RUNTIME_PYTHON ?=
package: $(STAMP)
	$(PY) -m perimeter.package --output build/perimeter-lambda.zip $(if $(RUNTIME_PYTHON),--runtime-python $(RUNTIME_PYTHON))

# Regenerate templates/ from rules/*/parameters.json and the runbooks (tests fail when they drift).
templates: $(STAMP)
	$(PY) -m perimeter.templates --write templates/

# checkov scans templates/ in tests/test_templates.py. It pins an old boto3, so it gets a virtual environment of
# its own; the stamp carries the version, so changing CHECKOV_VERSION reinstalls.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := build/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.stamp-$(CHECKOV_VERSION)
$(CHECKOV_STAMP):
	$(call tool_venv,$(CHECKOV_VENV),checkov==$(CHECKOV_VERSION))
# `make test` runs cfn-lint (test extras) and checkov over templates/ (tests/test_templates.py): install checkov first.
test: $(CHECKOV_STAMP)

# make deploy STACK=name BUCKET=artifact-bucket [TEMPLATE=templates/perimeter.yaml] [PARAMETERS="Key=Value ..."]
# `aws cloudformation package` uploads build/perimeter-lambda.zip (the templates' local Code path) to BUCKET, then
# `aws cloudformation deploy` creates or updates STACK. The AWS CLI gets a virtual environment of its own.
TEMPLATE ?= templates/perimeter.yaml

# The arguments are checked first, before anything is built or installed: a missing one prints the usage and
# stops. (Make builds prerequisites left to right; under -j, .NOTPARALLEL below keeps that order for these.)
.PHONY: deploy-arguments publish-arguments
.NOTPARALLEL: deploy publish
deploy-arguments:
	@if [ -z "$(STACK)" ] || [ -z "$(BUCKET)" ]; then \
	  echo "usage: make deploy STACK=name BUCKET=artifact-bucket [TEMPLATE=...] [PARAMETERS='Key=Value ...']" >&2; \
	  exit 2; fi
publish-arguments:
	@if [ -z "$(ARTIFACT_BUCKET_PREFIX)" ] || [ -z "$(REGIONS)" ]; then \
	  echo "usage: make publish ARTIFACT_BUCKET_PREFIX=prefix REGIONS='us-east-1 eu-west-1'" >&2; exit 2; fi
AWSCLI_VERSION := 1.46.2
AWSCLI_VENV := build/awscli-venv
AWSCLI_STAMP := $(AWSCLI_VENV)/.stamp-$(AWSCLI_VERSION)
$(AWSCLI_STAMP):
	$(call tool_venv,$(AWSCLI_VENV),awscli==$(AWSCLI_VERSION))

.PHONY: publish
# make publish ARTIFACT_BUCKET_PREFIX=prefix REGIONS="us-east-1 eu-west-1"
# Uploads the zip to each region's organization artifact bucket (<prefix>-<region>, organization/artifacts.yaml) under
# a key named after its content, and prints the key: the member StackSet's ArtifactKey. A new build gets a new key,
# so updating the StackSet with it replaces the functions' code.
publish: publish-arguments package $(AWSCLI_STAMP)
	@key=perimeter-lambda-$$(sha256sum build/perimeter-lambda.zip | cut -c1-16).zip; \
	for region in $(REGIONS); do \
	  $(AWSCLI_VENV)/bin/aws s3 cp build/perimeter-lambda.zip s3://$(ARTIFACT_BUCKET_PREFIX)-$$region/$$key \
	    --region $$region --only-show-errors || exit 1; \
	done; echo "ArtifactKey=$$key"

deploy: deploy-arguments package $(AWSCLI_STAMP)
	$(AWSCLI_VENV)/bin/aws cloudformation package --template-file $(TEMPLATE) --s3-bucket $(BUCKET) \
	  --s3-prefix $(STACK) --output-template-file build/$(STACK).packaged.yaml
	$(AWSCLI_VENV)/bin/aws cloudformation deploy --template-file build/$(STACK).packaged.yaml --stack-name $(STACK) \
	  --s3-bucket $(BUCKET) --s3-prefix $(STACK) --capabilities CAPABILITY_NAMED_IAM \
	  $(if $(PARAMETERS),--parameter-overrides $(PARAMETERS))

# --- Benchmarks (issue 7) ---------------------------------------------------------------------------------------
.PHONY: bench bench-venv bench-runtime-venv

# `make bench` measures the figures of README "Benchmarks" in one run, prints them and writes build/bench.json.
# It reports; it is not a test. The peers (Cloud Custodian; Prowler, whose security-group check is measured without
# its dependencies, hence --no-deps) and moto's server mode get a venv of their own.
BENCH_C7N_VERSION := 0.9.53
BENCH_PROWLER_VERSION := 5.46.0
BENCH_MOTO_VERSION := 5.2.5
BENCH_VENV := build/bench-venv
# A variable, because the commas of the extras would split $(call ...)'s arguments.
BENCH_PACKAGES := c7n==$(BENCH_C7N_VERSION) 'moto[server,ec2,sts]==$(BENCH_MOTO_VERSION)'
BENCH_STAMP := $(BENCH_VENV)/.stamp-c7n-$(BENCH_C7N_VERSION)-moto-$(BENCH_MOTO_VERSION)
$(BENCH_STAMP):
	$(call tool_venv,$(BENCH_VENV),$(BENCH_PACKAGES))
BENCH_PROWLER_STAMP := $(BENCH_VENV)/.stamp-prowler-$(BENCH_PROWLER_VERSION)
$(BENCH_PROWLER_STAMP): $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps prowler==$(BENCH_PROWLER_VERSION)
	touch $@
bench-venv: $(BENCH_STAMP) $(BENCH_PROWLER_STAMP)

# The cold-start figure runs the zip under the Lambda runtime's Python (the rules' declared python3.12, found as
# `make package` finds it) with the runtime's boto3, pip-installed and so compiled, as the runtime's is.
BENCH_BOTO3_VERSION := 1.44.8
BENCH_RUNTIME_VENV := build/bench-runtime-venv
BENCH_RUNTIME_STAMP := $(BENCH_RUNTIME_VENV)/.stamp-boto3-$(BENCH_BOTO3_VERSION)
$(BENCH_RUNTIME_STAMP): $(STAMP)
	rm -rf $(BENCH_RUNTIME_VENV)
	runtime_python="$(RUNTIME_PYTHON)"; \
	  if [ -z "$$runtime_python" ]; then runtime_python=$$($(PY) -m perimeter.bytecode) || exit 2; fi; \
	  "$$runtime_python" -m venv $(BENCH_RUNTIME_VENV)
	$(BENCH_RUNTIME_VENV)/bin/python -m pip install --quiet boto3==$(BENCH_BOTO3_VERSION)
	touch $@
bench-runtime-venv: $(BENCH_RUNTIME_STAMP)

bench: $(STAMP) $(BENCH_STAMP) $(BENCH_PROWLER_STAMP) $(BENCH_RUNTIME_STAMP)
	$(PY) -m bench
