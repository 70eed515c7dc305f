//! Fields the contract types as `string` that carry JSON text (Kubernetes objects, patches,
//! settings).
//!
//! Golden fixtures may write such a value inline, as a JSON object or array, to keep the
//! Kubernetes objects readable; these deserialisers accept both forms and always yield the
//! JSON text, exactly as the fixture runner hands it to a plugin.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// JSON text written either as a string or inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::String(text) => Self(text),
            inline => Self(inline.to_string()),
        })
    }
}

/// `#[serde(deserialize_with)]` for a `String` field holding JSON text.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    JsonText::deserialize(deserializer).map(|text| text.0)
}

/// `#[serde(deserialize_with)]` for a `Vec<String>` field holding one JSON text per item.
pub fn deserialize_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let items = Vec::<JsonText>::deserialize(deserializer)?;
    Ok(items.into_iter().map(|text| text.0).collect())
}
