//! Label selectors in the `kubectl -l` syntax that `object-query` uses.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::types::PluginError;

/// Renders a label selector as `kubectl -l` text: `app=web,tier in (a,b),!legacy`.
///
/// Terms come out in a fixed order (match labels by key, then the expressions as written, each
/// with its values sorted) so the same selector always gives the same query. An empty selector
/// renders as the empty string, which matches everything.
pub fn render(selector: &LabelSelector) -> Result<String, PluginError> {
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for expression in selector.match_expressions.iter().flatten() {
        let key = &expression.key;
        let values: BTreeSet<&str> = expression
            .values
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let listed = || values.iter().copied().collect::<Vec<_>>().join(",");
        let term = match expression.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(PluginError::invalid_input(format!(
                    "label selector expression on `{key}` uses {} without values",
                    expression.operator
                )));
            }
            "In" => format!("{key} in ({})", listed()),
            "NotIn" => format!("{key} notin ({})", listed()),
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(PluginError::invalid_input(format!(
                    "label selector expression on `{key}` uses {} with values",
                    expression.operator
                )));
            }
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            other => {
                return Err(PluginError::invalid_input(format!(
                    "label selector expression on `{key}` has unknown operator `{other}` \
                     (expected In, NotIn, Exists or DoesNotExist)"
                )));
            }
        };
        terms.push(term);
    }
    Ok(terms.join(","))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn requirement(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn renders_labels_sorted_then_expressions_in_order() {
        let selector = LabelSelector {
            match_labels: Some(
                [("tier", "web"), ("app", "shop")]
                    .map(|(k, v)| (k.into(), v.into()))
                    .into(),
            ),
            match_expressions: Some(vec![
                requirement("zone", "In", &["b", "a", "b"]),
                requirement("env", "NotIn", &["dev"]),
                requirement("canary", "Exists", &[]),
                requirement("legacy", "DoesNotExist", &[]),
            ]),
        };
        assert_eq!(
            render(&selector).unwrap(),
            "app=shop,tier=web,zone in (a,b),env notin (dev),canary,!legacy"
        );
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert_eq!(render(&LabelSelector::default()).unwrap(), "");
    }

    #[test]
    fn refuses_malformed_expressions() {
        for bad in [
            requirement("a", "In", &[]),
            requirement("a", "Exists", &["x"]),
            requirement("a", "Gt", &["1"]),
        ] {
            let selector = LabelSelector {
                match_expressions: Some(vec![bad]),
                ..Default::default()
            };
            let err = render(&selector).unwrap_err();
            assert!(matches!(err, PluginError::InvalidInput(_)));
            assert!(err.message().contains("`a`"), "{err}");
        }
    }
}
