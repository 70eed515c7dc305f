//! Which of a rule's `backendRefs` are the stable and the canary Service.

use serde_json::Value;
use waxwing_plugin_sdk::traffic::TrafficContext;

use crate::fields;

/// The two Services of the route, in the Rollout's namespace.
#[derive(Debug, Clone, Copy)]
pub struct Services<'a> {
    pub stable: &'a str,
    pub canary: &'a str,
    pub namespace: &'a str,
}

impl<'a> Services<'a> {
    pub fn of(ctx: &'a TrafficContext) -> Self {
        Self {
            stable: &ctx.stable_service,
            canary: &ctx.canary_service,
            namespace: &ctx.rollout.namespace,
        }
    }

    /// The Rollout generates no canary Service (`disableGenerateCanaryService`): both names
    /// are the stable Service's, so no backendRef can tell the canary pods apart.
    pub fn share_one_service(&self) -> bool {
        self.stable == self.canary
    }

    /// Where the rule's first backendRef to the stable Service is.
    pub fn stable_in(&self, rule: &Value) -> Option<usize> {
        self.stable_among(refs(rule))
    }

    /// Where the first backendRef to the stable Service among `refs` is.
    pub fn stable_among(&self, refs: &[Value]) -> Option<usize> {
        position(refs, self.stable, self.namespace)
    }

    /// Where the first backendRef to the canary Service among `refs` is.
    pub fn canary_among(&self, refs: &[Value]) -> Option<usize> {
        position(refs, self.canary, self.namespace)
    }

    pub fn is_canary(&self, backend_ref: &Value) -> bool {
        is_service(backend_ref, self.canary, self.namespace)
    }

    /// The stable backendRef sent to the canary Service instead: same port, weight and
    /// backendRef filters.
    pub fn canary_copy(&self, stable_ref: &Value) -> Value {
        let mut canary = stable_ref.clone();
        canary["name"] = Value::from(self.canary);
        canary
    }
}

/// The rule's backendRefs; none when it has no list.
pub fn refs(rule: &Value) -> &[Value] {
    fields::list(rule, "backendRefs")
}

/// A backendRef to Service `name` in `namespace`. Gateway API defaults an absent `kind` to
/// `Service`, an absent `group` to the core group and an absent `namespace` to the route's
/// (the Rollout's), so those count too; a ref of another kind or group or to another
/// namespace's Service of the same name does not.
fn is_service(backend_ref: &Value, name: &str, namespace: &str) -> bool {
    let field = |key: &str| fields::text(backend_ref, key);
    field("name") == Some(name)
        && field("kind").is_none_or(|kind| kind == "Service")
        && field("group").is_none_or(str::is_empty)
        && field("namespace").is_none_or(|ns| ns == namespace)
}

fn position(refs: &[Value], name: &str, namespace: &str) -> Option<usize> {
    refs.iter()
        .position(|backend_ref| is_service(backend_ref, name, namespace))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SERVICES: Services<'static> = Services {
        stable: "web",
        canary: "web-canary",
        namespace: "shop",
    };

    #[test]
    fn defaults_count_as_the_service_and_other_kinds_do_not() {
        let rule = |backend_ref: Value| json!({"backendRefs": [{"name": "admin"}, backend_ref]});
        assert_eq!(SERVICES.stable_in(&rule(json!({"name": "web"}))), Some(1));
        let explicit = json!({"name": "web", "kind": "Service", "group": "", "namespace": "shop"});
        assert_eq!(SERVICES.stable_in(&rule(explicit)), Some(1));
        for other in [
            json!({"name": "web", "kind": "ServiceImport", "group": "multicluster.x-k8s.io"}),
            json!({"name": "web", "group": "example.com"}),
            json!({"name": "web", "namespace": "other"}),
            json!({"name": "web-canary"}),
        ] {
            assert_eq!(SERVICES.stable_in(&rule(other.clone())), None, "{other}");
        }
        assert_eq!(SERVICES.stable_in(&json!({"matches": []})), None);
    }

    #[test]
    fn the_canary_copy_keeps_everything_but_the_name() {
        let stable = json!({"name": "web", "port": 80, "weight": 1, "filters": [{"type": "X"}]});
        assert_eq!(
            SERVICES.canary_copy(&stable),
            json!({"name": "web-canary", "port": 80, "weight": 1, "filters": [{"type": "X"}]})
        );
    }
}
