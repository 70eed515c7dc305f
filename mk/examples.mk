# Example plugins in other languages (plugins/examples/), built outside cargo: JavaScript with
# componentize-js through jco, installed at the versions each example's package-lock.json pins
# into $(WAXWING_CACHE)/node (default ~/.cache/waxwing/node). Needs Node.js 20+ and npm registry
# access on the first build; later builds reuse the tools, and a component whose inputs did not
# change is not built again. Included by the root Makefile, after mk/dev.mk (WAXWING_BIN).

EXAMPLES_OUT ?= $(CURDIR)/target/examples
EXAMPLES_DIR := plugins/examples

.PHONY: examples examples-check

examples: ## Build the example plugins (JavaScript, componentize-js) into target/examples/.
	@WAXWING_EXAMPLES_OUT=$(EXAMPLES_OUT) scripts/build-examples.sh

# The waxwing binary is built only when it is missing (WAXWING_BIN may name a prebuilt one).
examples-check: examples $(if $(wildcard $(WAXWING_BIN)),,build) ## Check each example plugin against its world and run its golden fixtures.
	$(WAXWING_BIN) plugin check $(EXAMPLES_OUT)/istio-virtualservice.wasm --world traffic \
		--fixtures $(EXAMPLES_DIR)/istio-virtualservice/fixtures
