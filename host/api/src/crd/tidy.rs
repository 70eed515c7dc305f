//! Post-processing of the derived OpenAPI schemas.
//!
//! schemars marks every `Option` field `nullable: true` (and adds `null` to optional enums).
//! Kruise's schemas have neither, and they are not wanted: the API server prunes explicit
//! `null`s from non-nullable fields (Go clients send `lastUpdateTime: null` for a zero time),
//! whereas a nullable field would store the `null` and make our types see a value that Kruise
//! never writes.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};

/// Removes `nullable` and `null` enum values from every schema of the CRD.
pub(super) fn drop_nullable(crd: &mut CustomResourceDefinition) {
    for version in &mut crd.spec.versions {
        if let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|validation| validation.open_api_v3_schema.as_mut())
        {
            visit(schema);
        }
    }
}

fn visit(schema: &mut JSONSchemaProps) {
    schema.nullable = None;
    if let Some(values) = &mut schema.enum_ {
        values.retain(|value| !value.0.is_null());
    }
    for child in schema
        .properties
        .iter_mut()
        .flat_map(|map| map.values_mut())
    {
        visit(child);
    }
    match &mut schema.items {
        Some(JSONSchemaPropsOrArray::Schema(item)) => visit(item),
        Some(JSONSchemaPropsOrArray::Schemas(items)) => items.iter_mut().for_each(visit),
        None => {}
    }
    if let Some(JSONSchemaPropsOrBool::Schema(values)) = &mut schema.additional_properties {
        visit(values);
    }
    for junctor in [&mut schema.all_of, &mut schema.any_of, &mut schema.one_of] {
        junctor.iter_mut().flatten().for_each(visit);
    }
    if let Some(not) = &mut schema.not {
        visit(not);
    }
}
