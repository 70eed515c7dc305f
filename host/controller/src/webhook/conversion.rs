//! The CRD conversion webhook: ConversionReview v1 in, the Rollouts converted by
//! `waxwing_api::conversion` out.
//!
//! The API server needs every object or none: when one Rollout cannot be converted the whole
//! review fails, with a message naming each Rollout that failed and why.

use kube::core::Status;
use kube::core::conversion::{ConversionRequest, ConversionResponse, ConversionReview};
use serde_json::Value;
use waxwing_api::conversion;

pub fn review(review: ConversionReview) -> ConversionReview {
    let request = match ConversionRequest::from_review(review) {
        Ok(request) => request,
        Err(e) => {
            let status = Status::failure(&e.to_string(), "BadRequest").with_code(400);
            return ConversionResponse::invalid(status).into_review();
        }
    };
    let desired = request.desired_api_version.clone();
    let total = request.objects.len();
    let mut converted = Vec::with_capacity(total);
    let mut failures = Vec::new();
    for object in &request.objects {
        match conversion::convert(object, &desired) {
            Ok(object) => converted.push(object),
            Err(e) => failures.push(format!("Rollout {}: {e}", identity(object))),
        }
    }
    let response = ConversionResponse::for_request(request);
    if failures.is_empty() {
        return response.success(converted).into_review();
    }
    let message = format!(
        "cannot convert {} of {total} Rollouts to {desired}: {}",
        failures.len(),
        failures.join("; ")
    );
    tracing::warn!("{message}");
    response
        .failure(Status::failure(&message, "ConversionFailed").with_code(422))
        .into_review()
}

/// `namespace/name` of an object, for messages; `(unnamed)` when it has none.
fn identity(object: &Value) -> String {
    let field = |name: &str| {
        object
            .pointer(&format!("/metadata/{name}"))
            .and_then(Value::as_str)
    };
    match (field("namespace"), field("name")) {
        (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
        (None, Some(name)) => name.to_string(),
        (_, None) => "(unnamed)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v1alpha1_rollout() -> Value {
        json!({
            "apiVersion": "rollouts.kruise.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "demo", "namespace": "shop", "uid": "u-1",
                         "resourceVersion": "7", "annotations": {"team": "a"}},
            "spec": {
                "objectRef": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo"}},
                "strategy": {"canary": {"steps": [
                    {"replicas": 1, "pause": {}},
                    {"replicas": "50%", "pause": {"duration": 60}},
                    {"replicas": "100%", "pause": {}}
                ]}},
                "disabled": false
            }
        })
    }

    fn review_of(desired: &str, objects: Vec<Value>) -> ConversionReview {
        serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "request": {"uid": "req-1", "desiredAPIVersion": desired, "objects": objects}
        }))
        .unwrap()
    }

    fn response_of(review: ConversionReview) -> ConversionResponse {
        review.response.expect("a review with a response")
    }

    #[test]
    fn converts_v1alpha1_to_v1beta1_and_back() {
        let original = v1alpha1_rollout();
        let up = response_of(review(review_of(
            "rollouts.kruise.io/v1beta1",
            vec![original.clone()],
        )));
        assert_eq!(up.uid, "req-1");
        assert!(up.result.is_success(), "{:?}", up.result);
        let [beta] = up.converted_objects.as_slice() else {
            panic!("one object expected: {:?}", up.converted_objects)
        };
        assert_eq!(beta["apiVersion"], "rollouts.kruise.io/v1beta1");
        assert_eq!(
            beta["spec"]["workloadRef"],
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo"})
        );
        assert_eq!(
            beta["spec"]["strategy"]["canary"]["steps"][1]["replicas"],
            "50%"
        );
        // v1alpha1 releases a Deployment with an extra canary workload unless told otherwise.
        assert_eq!(
            beta["spec"]["strategy"]["canary"]["enableExtraWorkloadForCanary"],
            true
        );
        // Conversion may touch labels and annotations only; identity stays.
        assert_eq!(beta["metadata"]["uid"], "u-1");
        assert_eq!(beta["metadata"]["resourceVersion"], "7");

        let down = response_of(review(review_of(
            "rollouts.kruise.io/v1alpha1",
            vec![beta.clone()],
        )));
        assert!(down.result.is_success(), "{:?}", down.result);
        assert_eq!(down.converted_objects, vec![original]);
    }

    #[test]
    fn objects_already_at_the_desired_version_pass_through_in_order() {
        let alpha = v1alpha1_rollout();
        let mut second = alpha.clone();
        second["metadata"]["name"] = json!("second");
        let response = response_of(review(review_of(
            "rollouts.kruise.io/v1alpha1",
            vec![alpha.clone(), second.clone()],
        )));
        assert!(response.result.is_success());
        assert_eq!(response.converted_objects, vec![alpha, second]);
    }

    #[test]
    fn a_failure_names_every_rollout_that_failed() {
        let good = v1alpha1_rollout();
        let mut no_workload = v1alpha1_rollout();
        no_workload["metadata"]["name"] = json!("broken");
        no_workload["spec"]["objectRef"] = json!({});
        let mut not_a_rollout = v1alpha1_rollout();
        not_a_rollout["metadata"]["name"] = json!("garbled");
        not_a_rollout["spec"]["strategy"] = json!("fast");

        let response = response_of(review(review_of(
            "rollouts.kruise.io/v1beta1",
            vec![good, no_workload, not_a_rollout],
        )));
        assert!(response.result.is_failure());
        assert!(response.converted_objects.is_empty());
        let message = &response.result.message;
        assert!(
            message.starts_with("cannot convert 2 of 3 Rollouts to rollouts.kruise.io/v1beta1"),
            "{message}"
        );
        assert!(
            message.contains("Rollout shop/broken: spec.objectRef.workloadRef is missing"),
            "{message}"
        );
        assert!(
            message.contains("Rollout shop/garbled: the object is not a valid"),
            "{message}"
        );
        assert!(!message.contains("shop/demo"), "{message}");
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let response = response_of(review(review_of(
            "rollouts.kruise.io/v2",
            vec![v1alpha1_rollout()],
        )));
        assert!(response.result.is_failure());
        assert!(
            response.result.message.contains("the versions are"),
            "{}",
            response.result.message
        );
    }

    #[test]
    fn a_review_without_a_request_is_refused() {
        let empty: ConversionReview = serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview"
        }))
        .unwrap();
        let response = response_of(review(empty));
        assert!(response.result.is_failure());
        assert_eq!(response.result.code, 400);
    }
}
