//! Serde helpers that make the Rust types read and write JSON the way Kruise's Go types do.
//!
//! Go's `encoding/json` drops `omitempty` fields holding a zero value and always writes the
//! others, and Go string enums use `""` for "not set". Matching that keeps objects written by
//! Waxwing byte-compatible with objects written by Kruise, so tools built for Kruise
//! (kubectl-kruise, KubeVela, dashboards) read them unchanged.

/// `skip_serializing_if` for Go `omitempty` integers.
pub(crate) fn is_zero_i32(value: &i32) -> bool {
    *value == 0
}

/// `skip_serializing_if` for Go `omitempty` integers.
pub(crate) fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}

/// `skip_serializing_if` for Go `omitempty` booleans.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// Schema of an [`empty_is_none`] field: the enum `T` plus `""`.
pub(crate) fn empty_or<T: schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    let mut schema = generator.subschema_for::<T>();
    // schemars lists the values in `enum`, or, when variants carry doc comments, as one
    // `{type, enum}` subschema per group in `oneOf` (which kube later folds into `enum`).
    if let Some(serde_json::Value::Array(values)) = schema.get_mut("enum") {
        values.push(serde_json::Value::from(""));
    } else if let Some(serde_json::Value::Array(variants)) = schema.get_mut("oneOf") {
        variants.push(serde_json::json!({"type": "string", "enum": [""]}));
    }
    schema
}

/// An optional Go string enum: `""`, `null` and an absent field all read as `None`, and `None`
/// is written as `""` (for fields Go always writes; pair with `skip_serializing_if` for the
/// `omitempty` ones).
pub(crate) mod empty_is_none {
    use serde::de::{DeserializeOwned, IntoDeserializer};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => value.serialize(serializer),
            None => serializer.serialize_str(""),
        }
    }

    pub(crate) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) if text.is_empty() => Ok(None),
            Some(text) => T::deserialize(text.into_deserializer()).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Colour {
        Red,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Holder {
        #[serde(default, with = "super::empty_is_none")]
        colour: Option<Colour>,
    }

    #[test]
    fn empty_string_null_and_absent_read_as_none() {
        for text in [r#"{"colour":""}"#, r#"{"colour":null}"#, "{}"] {
            let holder: Holder = serde_json::from_str(text).unwrap();
            assert_eq!(holder.colour, None, "{text}");
        }
    }

    #[test]
    fn none_is_written_as_empty_string_and_values_round_trip() {
        let none = Holder { colour: None };
        assert_eq!(serde_json::to_string(&none).unwrap(), r#"{"colour":""}"#);
        let red: Holder = serde_json::from_str(r#"{"colour":"Red"}"#).unwrap();
        assert_eq!(red.colour, Some(Colour::Red));
        assert_eq!(serde_json::to_string(&red).unwrap(), r#"{"colour":"Red"}"#);
    }

    #[test]
    fn unknown_value_is_an_error_naming_the_variants() {
        let err = serde_json::from_str::<Holder>(r#"{"colour":"Blue"}"#).unwrap_err();
        assert!(err.to_string().contains("Red"), "{err}");
    }
}
