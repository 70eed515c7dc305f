# The local development loop: the test cluster plus the controller built from this tree,
# and the demo. Included by the root Makefile.

CARGO_TARGET ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
export WAXWING_BIN ?= $(CARGO_TARGET)/debug/waxwing

.PHONY: up down demo scale

up: cluster-up ## Cluster + CRDs + webhooks + the controller running locally (log in target/cluster/logs/waxwing.log).
	$(CARGO) build --locked -p waxwing
	@scripts/controller.sh start

down: cluster-down ## Stop the controller and the local cluster.

demo: up ## Release v2 of examples/ (5 replicas; 20%, 40% with a manual pause, 60%, 100%) and follow it batch by batch.
	@scripts/demo.sh

SCALE_ROLLOUTS ?= 50
SCALE_REPLICAS ?= 4
scale: up ## Scale harness: SCALE_ROLLOUTS (50) Rollouts of SCALE_REPLICAS (4) pods released at once; time, reconciles, controller CPU and memory.
	$(CARGO) run --locked -q -p waxwing-e2e --bin scale -- $(SCALE_ROLLOUTS) $(SCALE_REPLICAS)
