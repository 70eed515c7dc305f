//! Label and annotation keys, Kruise's and Kubernetes' own, so existing tools keep working.

/// Marks a workload in a release; the value is `{"rolloutName":"<name>"}`.
pub const IN_PROGRESSING: &str = waxwing_plugin_sdk::takeover::IN_PROGRESSING_ANNOTATION;
/// The `pod-template-hash` of the stable ReplicaSet during a release.
pub const STABLE_REVISION: &str = "rollouts.kruise.io/stable-revision";
/// Kruise's advanced-deployment strategy (rolling style and the original `rollingUpdate`).
pub const DEPLOYMENT_STRATEGY: &str = "rollouts.kruise.io/deployment-strategy";
/// On a canary Deployment: the name of its stable Deployment.
pub const CANARY_DEPLOYMENT: &str = "rollouts.kruise.io/canary-deployment";
/// Kruise's record of the settings a blue-green release bounds, restored at finalize.
pub const ORIGINAL_STRATEGY: &str = "rollouts.kruise.io/original-deployment-strategy";

/// The label Kubernetes puts on a Deployment's ReplicaSets and pods to tell templates apart.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The Deployment controller's ReplicaSet annotations.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Deployment annotations the Deployment controller does not copy to its ReplicaSets.
pub const NOT_COPIED_TO_REPLICA_SETS: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
