# Deployment files (deploy/: Helm chart, kustomize manifests, KubeVela trait) and the tools that
# check them. Included by the root Makefile. Knob: WAXWING_CACHE (tool cache, default
# ~/.cache/waxwing; helm and cue go to its tools/ directory).

DEPLOY_SCRIPTS := $(CURDIR)/tests/deploy

.PHONY: tools-build deploy-check helm-crds

tools-build: ## Build (or reuse cached) helm and cue from the Go module proxy, in ~/.cache/waxwing/tools.
	@$(CURDIR)/tests/tools/build.sh >/dev/null

deploy-check: tools-build ## Lint and render deploy/ (chart, kustomize, KubeVela trait); server-side dry run if the test cluster is up.
	@$(DEPLOY_SCRIPTS)/check.sh

helm-crds: ## Copy deploy/crds into the Helm chart's crds/ (after `make crds`).
	@deploy/sync-crds.sh
