# Example plugins in other languages (plugins/examples/), built outside cargo by
# scripts/build-examples.sh: JavaScript with componentize-js through jco, installed at the
# versions each example's package-lock.json pins into $(WAXWING_CACHE)/node (default
# ~/.cache/waxwing/node; needs Node.js 20+ and npm registry access on the first build), and
# Python with componentize-py at the version each example's pyproject.toml pins (on PATH:
# `python3 -m pip install componentize-py==0.25.1`, as .ci/run does). A component whose inputs
# did not change is not built again. Included by the root Makefile, after mk/dev.mk
# (WAXWING_BIN).

EXAMPLES_OUT ?= $(CURDIR)/target/examples
EXAMPLES_DIR := plugins/examples

# Each example and the world it implements; examples-check runs its fixtures/ against it.
EXAMPLE_WORLDS := istio-virtualservice:traffic error-budget:policy freeze-window:policy

.PHONY: examples examples-check

examples: ## Build the example plugins (JavaScript and Python) into target/examples/.
	@WAXWING_EXAMPLES_OUT=$(EXAMPLES_OUT) scripts/build-examples.sh

# The waxwing binary is built only when it is missing (WAXWING_BIN may name a prebuilt one).
examples-check: examples $(if $(wildcard $(WAXWING_BIN)),,build) ## Check each example plugin against its world and run its golden fixtures.
	@echo "--- freeze-window: unit tests of its Python logic (CPython)"
	@PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s $(EXAMPLES_DIR)/freeze-window/tests
	@status=0; for example in $(EXAMPLE_WORLDS); do \
		name=$${example%%:*}; world=$${example#*:}; \
		echo "--- $$name ($$world)"; \
		$(WAXWING_BIN) plugin check $(EXAMPLES_OUT)/$$name.wasm --world $$world \
			--fixtures $(EXAMPLES_DIR)/$$name/fixtures || status=1; \
	done; exit $$status
