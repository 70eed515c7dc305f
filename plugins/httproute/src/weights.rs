//! Routing by weight, as Kruise's Gateway API provider does it: every rule with a backendRef to
//! the stable Service gives that backendRef weight `100 - w` and a copy of it on the canary
//! Service weight `w`. Other backendRefs of the rule keep their weights, and rules without the
//! stable Service are left alone. At weight 0 the canary backendRef is there with weight 0, at
//! 100 the stable one stays with weight 0.

use serde_json::Value;

use crate::backend_refs::Services;

/// Splits the weight of the rules at `stable_rules` (each has a backendRef to the stable
/// Service).
pub fn split(rules: &mut [Value], stable_rules: &[usize], services: &Services<'_>, weight: u32) {
    for &index in stable_rules {
        let Some(refs) = rules[index]
            .get_mut("backendRefs")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        let Some(stable) = services.stable_among(refs) else {
            continue;
        };
        refs[stable]["weight"] = Value::from(100 - weight);
        // A rule recorded with a canary backendRef already (by another controller) keeps it in
        // its place, as Kruise does.
        match services.canary_among(refs) {
            Some(canary) => refs[canary]["weight"] = Value::from(weight),
            None => {
                let mut canary = services.canary_copy(&refs[stable]);
                canary["weight"] = Value::from(weight);
                refs.push(canary);
            }
        }
    }
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
    fn only_the_stable_backend_and_its_canary_copy_get_the_step_weights() {
        let mut rules = vec![
            json!({"backendRefs": [{"name": "legacy", "port": 80, "weight": 3},
                                   {"name": "web", "port": 80, "weight": 1}]}),
            json!({"backendRefs": [{"name": "admin", "port": 80, "weight": 1}]}),
            json!({"backendRefs": [{"name": "web", "port": 8080},
                                   {"name": "web-canary", "port": 8080, "weight": 9}]}),
        ];
        split(&mut rules, &[0, 2], &SERVICES, 30);
        assert_eq!(
            rules,
            [
                json!({"backendRefs": [{"name": "legacy", "port": 80, "weight": 3},
                                       {"name": "web", "port": 80, "weight": 70},
                                       {"name": "web-canary", "port": 80, "weight": 30}]}),
                json!({"backendRefs": [{"name": "admin", "port": 80, "weight": 1}]}),
                json!({"backendRefs": [{"name": "web", "port": 8080, "weight": 70},
                                       {"name": "web-canary", "port": 8080, "weight": 30}]}),
            ]
        );
    }
}
