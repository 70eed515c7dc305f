# Waxwing: the two commands a newcomer needs are `make demo` and `make test` (see README.md).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# Unit tests, plugin fixtures and hostile-plugin tests: everything that needs no cluster.
UNIT_TEST_FLAGS := --workspace --exclude waxwing-e2e

include mk/cluster.mk
include mk/dev.mk
include mk/deploy.mk
include mk/examples.mk

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build the waxwing binary and the built-in plugins it embeds.
	$(CARGO) build --locked -p waxwing

.PHONY: lint
lint: ## rustfmt and clippy, warnings are errors.
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

.PHONY: unit
unit: ## Unit, property, golden-fixture and hostile-plugin tests (no cluster needed).
	scripts/check-fixtures.sh
	$(CARGO) test --locked $(UNIT_TEST_FLAGS)

.PHONY: wit-bindings
wit-bindings: ## Check that Python and JavaScript guests can generate bindings for every world.
	scripts/check-wit-bindings.sh

.PHONY: crds
crds: ## Regenerate deploy/crds from the Rust API types, and the copies in the chart and manifests.
	$(CARGO) run --locked -q -p waxwing -- crds --write deploy/crds
	@deploy/sync-crds.sh

.PHONY: test
# deploy-check comes after the e2e tests: its v1alpha1 dry runs go through the running
# controller's conversion webhook.
test: lint unit wit-bindings examples-check test-e2e deploy-check ## Everything CI runs: lint, unit tests, bindings check, example plugins, e2e on a local cluster, deploy/ checks.

.PHONY: bench
bench: ## Criterion benchmarks (plugin call vs native, compile and cached-load times).
	$(CARGO) bench --locked -p waxwing-runtime
