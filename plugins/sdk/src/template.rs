//! Pod templates compared and hashed by content.
//!
//! Kubernetes finds a Deployment's ReplicaSet by comparing pod templates semantically while
//! ignoring the `pod-template-hash` label, and Kruise decides the same way whether an update of
//! any workload changes its pod template (`EqualIgnoreHash`); unset and empty values count as
//! equal. The canonical form below does the same: the template as JSON without that label,
//! without nulls, empty lists and empty objects, with object keys sorted. Both sides of a
//! comparison went through the API server's defaulting and quantity formatting, so their JSON
//! agrees field by field.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

use crate::revision::POD_TEMPLATE_HASH_LABEL;

/// True when two templates are equal ignoring the `pod-template-hash` label.
pub fn same(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    canonical(a) == canonical(b)
}

/// A hash of the template's content, usable as a `pod-template-hash` label value and in a
/// ReplicaSet name: FNV-1a (64 bit) of the canonical form, its decimal digits spelled with the
/// consonants-and-digits alphabet Kubernetes uses so no words appear.
pub fn content_hash(template: &PodTemplateSpec) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let hash = canonical(template)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    hash.to_string()
        .bytes()
        .map(|digit| char::from(ALPHABET[usize::from(digit) % ALPHABET.len()]))
        .collect()
}

fn canonical(template: &PodTemplateSpec) -> String {
    let mut template = template.clone();
    if let Some(labels) = template
        .metadata
        .as_mut()
        .and_then(|meta| meta.labels.as_mut())
    {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    let mut text = String::new();
    // Serialising a k8s-openapi value into a `Value` cannot fail: every key is a string.
    if let Some(value) = serde_json::to_value(&template).ok().and_then(prune) {
        write_sorted(&value, &mut text);
    }
    text
}

/// Drops nulls, empty lists and empty objects from object fields, bottom up; `None` when
/// nothing is left. List items stay (as `{}` when empty): `[{}]` is not an empty list, as a
/// toleration with no fields tolerates every taint.
fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) => {
            let items: Vec<Value> = items
                .into_iter()
                .map(|item| prune(item).unwrap_or_else(|| Value::Object(serde_json::Map::new())))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(fields) => {
            let fields: serde_json::Map<String, Value> = fields
                .into_iter()
                .filter_map(|(key, value)| prune(value).map(|value| (key, value)))
                .collect();
            (!fields.is_empty()).then_some(Value::Object(fields))
        }
        scalar => Some(scalar),
    }
}

/// JSON with object keys sorted, whatever map type `serde_json` was built with.
fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_sorted(&fields[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(value: Value) -> PodTemplateSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn ignores_the_hash_label_and_empty_values() {
        let plain = template(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]}
        }));
        let hashed = template(json!({
            "metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}, "annotations": {}},
            "spec": {"containers": [{"name": "web", "image": "web:1", "env": []}], "volumes": []}
        }));
        assert!(same(&plain, &hashed));
        assert_eq!(content_hash(&plain), content_hash(&hashed));
    }

    #[test]
    fn any_real_difference_changes_equality_and_hash() {
        let v1 = template(json!({"spec": {"containers": [{"name": "web", "image": "web:1"}]}}));
        let v2 = template(json!({"spec": {"containers": [{"name": "web", "image": "web:2"}]}}));
        let restarted = template(json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]}
        }));
        assert!(!same(&v1, &v2));
        assert!(!same(&v1, &restarted));
        assert_ne!(content_hash(&v1), content_hash(&v2));
        assert_ne!(content_hash(&v1), content_hash(&restarted));
    }

    #[test]
    fn hash_is_a_valid_label_value() {
        let hash = content_hash(&PodTemplateSpec::default());
        assert!(!hash.is_empty() && hash.len() <= 20, "{hash}");
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{hash}"
        );
    }
}
