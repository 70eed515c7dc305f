//! Reading and writing the lists of a route kept as JSON. The API server's schema makes every
//! list a list; these accessors still never panic on one that is not, they treat it as
//! missing (reading) or leave it alone (writing).

use serde_json::Value;

/// The list at `key` of `object`; empty when there is none.
pub fn list<'a>(object: &'a Value, key: &str) -> &'a [Value] {
    object
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The list at `key` of `object`, created empty when absent; none when `object` is not an
/// object or the field is not a list.
pub fn list_mut<'a>(object: &'a mut Value, key: &str) -> Option<&'a mut Vec<Value>> {
    let field = object
        .as_object_mut()?
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    field.as_array_mut()
}

/// The text at `key` of `object`.
pub fn text<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_are_created_but_never_forced() {
        let mut rule = json!({"filters": "oops"});
        assert!(list_mut(&mut rule, "filters").is_none());
        assert_eq!(list(&rule, "filters"), &[] as &[Value]);
        list_mut(&mut rule, "matches").unwrap().push(json!(1));
        assert_eq!(rule, json!({"filters": "oops", "matches": [1]}));
        assert!(list_mut(&mut json!([]), "matches").is_none());
        assert_eq!(text(&json!({"a": "b"}), "a"), Some("b"));
    }
}
