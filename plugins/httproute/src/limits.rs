//! Gateway API's size limits on an HTTPRoute's rules (`gateway.networking.k8s.io/v1`), checked
//! on the rules an A/B step writes: the canary copies add rules and matches, and a step that
//! adds too many is refused with a message for a person rather than by the API server, which
//! the host would retry.

use serde_json::Value;
use waxwing_plugin_sdk::{ObjectRef, PluginError};

use crate::config::describe;
use crate::fields;

const MAX_RULES: usize = 16;
const MAX_MATCHES_PER_RULE: usize = 64;
const MAX_MATCHES: usize = 128;
/// Headers, and query parameters, of one match.
const MAX_CONDITIONS: usize = 16;

pub fn check(rules: &[Value], target: &ObjectRef) -> Result<(), PluginError> {
    let too_many = |what: String, max: usize| {
        Err(PluginError::invalid_input(format!(
            "routing the step's matches through {} takes {what}, more than the {max} Gateway API \
             allows: every rule to the stable Service gets a canary copy whose matches are the \
             rule's own times the step's; use fewer matches in the step, or fewer rules to the \
             stable Service",
            describe(target)
        )))
    };
    if rules.len() > MAX_RULES {
        return too_many(format!("{} rules", rules.len()), MAX_RULES);
    }
    let mut total = 0;
    for rule in rules {
        let matches = fields::list(rule, "matches");
        if matches.len() > MAX_MATCHES_PER_RULE {
            return too_many(
                format!("{} matches in one rule", matches.len()),
                MAX_MATCHES_PER_RULE,
            );
        }
        total += matches.len();
        for one in matches {
            for (key, kind) in [("headers", "headers"), ("queryParams", "query parameters")] {
                let count = fields::list(one, key).len();
                if count > MAX_CONDITIONS {
                    return too_many(format!("a match of {count} {kind}"), MAX_CONDITIONS);
                }
            }
        }
    }
    if total > MAX_MATCHES {
        return too_many(format!("{total} matches"), MAX_MATCHES);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn target() -> ObjectRef {
        ObjectRef {
            api_version: "gateway.networking.k8s.io/v1".into(),
            kind: "HTTPRoute".into(),
            namespace: "shop".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn each_limit_is_named() {
        let rule = |matches: usize| json!({"matches": vec![json!({}); matches]});
        assert!(check(&vec![rule(8); 16], &target()).is_ok());
        let cases = [
            (vec![rule(1); 17], "takes 17 rules, more than the 16"),
            (
                vec![rule(65)],
                "takes 65 matches in one rule, more than the 64",
            ),
            (
                vec![rule(64), rule(64), rule(1)],
                "takes 129 matches, more than the 128",
            ),
            (
                vec![json!({"matches": [{"headers": vec![json!({}); 17]}]})],
                "takes a match of 17 headers, more than the 16",
            ),
        ];
        for (rules, expected) in cases {
            let err = check(&rules, &target()).unwrap_err();
            assert!(err.message().contains(expected), "{err}");
        }
    }
}
