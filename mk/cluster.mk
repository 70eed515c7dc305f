# Local test control plane (tests/cluster, see tests/cluster/README.md) and the e2e tests
# (crate waxwing-e2e). Included by the root Makefile. Knobs: NODES (fake nodes, default 3),
# WAXWING_CACHE (binary cache, default ~/.cache/waxwing), WAXWING_PORT_BASE (default 29400),
# E2E_THREADS (parallel e2e tests, default 4). The cluster includes a Prometheus for the analysis
# tests (tests/cluster/README.md, "Prometheus").

CARGO           ?= cargo
CLUSTER_SCRIPTS := $(CURDIR)/tests/cluster
# The scripts honour WAXWING_CLUSTER_STATE (a second cluster beside the first); so does test-e2e.
CLUSTER_STATE   := $(or $(WAXWING_CLUSTER_STATE),$(CURDIR)/target/cluster)
E2E_THREADS     ?= 4

.PHONY: cluster-build cluster-up cluster-down cluster-status test-e2e

cluster-build: ## Build (or reuse cached) control-plane binaries; bin dir linked at target/cluster/bin.
	@$(CLUSTER_SCRIPTS)/build.sh >/dev/null

cluster-up: ## Start (or reuse) the local control plane; prints `export KUBECONFIG=...`.
	@$(CLUSTER_SCRIPTS)/up.sh

cluster-down: ## Stop the recorded cluster processes and remove the cluster state.
	@$(CLUSTER_SCRIPTS)/down.sh

cluster-status: ## Pids, RSS and health of the running local cluster.
	@$(CLUSTER_SCRIPTS)/status.sh

test-e2e: up examples ## E2E tests (crate waxwing-e2e) against the local cluster.
	KUBECONFIG=$(CLUSTER_STATE)/kubeconfig $(CARGO) test --locked -p waxwing-e2e -- --test-threads=$(E2E_THREADS)
