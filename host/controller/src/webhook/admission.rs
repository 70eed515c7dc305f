//! Reading an AdmissionReview and answering it.
//!
//! The objects are kept as the exact JSON the API server sent: plugins receive them verbatim,
//! and a JSON patch computed against them applies to what the API server holds.

use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
use serde::Deserialize;
use serde_json::Value;

/// One admission request.
pub struct Review {
    pub request: AdmissionRequest<DynamicObject>,
    /// `request.object`, as sent.
    pub object: Option<Value>,
    /// `request.oldObject`, as sent (UPDATE only).
    pub old_object: Option<Value>,
}

impl Review {
    /// Parses a request body; for a body that is not an AdmissionReview, says why (answer
    /// with [`AdmissionResponse::invalid`]).
    pub fn parse(body: &[u8]) -> Result<Review, String> {
        let invalid =
            |e: &dyn std::fmt::Display| format!("the body is not an AdmissionReview: {e}");
        let value: Value = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
        let raw = |pointer: &str| value.pointer(pointer).filter(|v| !v.is_null()).cloned();
        let object = raw("/request/object");
        let old_object = raw("/request/oldObject");
        let review =
            AdmissionReview::<DynamicObject>::deserialize(value).map_err(|e| invalid(&e))?;
        let request: AdmissionRequest<DynamicObject> =
            review.try_into().map_err(|e| invalid(&e))?;
        Ok(Review {
            request,
            object,
            old_object,
        })
    }

    pub fn allow(&self) -> AdmissionResponse {
        AdmissionResponse::from(&self.request)
    }

    /// A refusal; the returned Status carries the refusal's code and reason besides the
    /// message.
    pub fn deny(&self, refusal: Refusal, message: impl ToString) -> AdmissionResponse {
        let mut response = self.allow().deny(message);
        let (code, reason) = refusal.code_and_reason();
        response.result.code = code;
        response.result.reason = reason.to_string();
        response
    }

    /// `namespace/name` of the object, for logs.
    pub fn key(&self) -> String {
        match &self.request.namespace {
            Some(namespace) => format!("{namespace}/{}", self.request.name),
            None => self.request.name.clone(),
        }
    }
}

/// Why a request is refused, as the Status reason clients (and `kubectl`) see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The object breaks a rule (422 Invalid).
    Invalid,
    /// The request cannot be read (400 BadRequest).
    BadRequest,
    /// Waxwing could not decide: the API or a plugin failed (500 InternalError).
    Internal,
}

impl Refusal {
    fn code_and_reason(self) -> (u16, &'static str) {
        match self {
            Refusal::Invalid => (422, "Invalid"),
            Refusal::BadRequest => (400, "BadRequest"),
            Refusal::Internal => (500, "InternalError"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_objects_exactly_as_sent() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "demo", "labels": {}},
            "spec": {"unknownField": [1, 2]}});
        let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                "name": "web", "namespace": "demo", "operation": "UPDATE", "userInfo": {},
                "object": object, "oldObject": null}});
        let review = Review::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(review.object, Some(object));
        assert_eq!(review.old_object, None);
        assert_eq!(review.key(), "demo/web");

        let denied = review.deny(Refusal::Invalid, "no");
        assert!(!denied.allowed);
        assert_eq!(denied.uid, "u1");
        assert_eq!(
            (denied.result.code, denied.result.reason.as_str()),
            (422, "Invalid")
        );
        assert_eq!(denied.result.message, "no");
    }

    #[test]
    fn a_body_that_is_not_a_review_is_refused_with_the_reason() {
        let Err(problem) = Review::parse(br#"{"kind": "AdmissionReview"}"#) else {
            panic!("a review without a request must not parse");
        };
        assert!(
            problem.starts_with("the body is not an AdmissionReview: "),
            "{problem}"
        );
    }
}
