//! What can go wrong in a reconcile, and where each failure ends up: in the Rollout's status
//! and a Warning event when a person has to act or wait, or in a retry with backoff when the
//! API server is briefly unreachable.

use std::time::Duration;

use waxwing_machine::{MachineError, WorkOutcome};
use waxwing_runtime::{CallError, PluginError};

use super::kinds::KindError;

/// A plugin asked to wait for objects to catch up (`not-ready`).
const NOT_READY_RETRY: Duration = Duration::from_secs(3);
/// A host read a plugin relied on failed; the API server may answer next time.
const HOST_FAILURE_RETRY: Duration = Duration::from_secs(10);
/// Something that needs a person (a crashed plugin, a refused change, a missing kind); looking
/// again now and then picks up a fix made outside the Rollout, such as a new plugin version.
const NEEDS_A_PERSON_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A plugin call failed; the message names the plugin, its build and the function.
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error(transparent)]
    Kind(#[from] KindError),
    /// A plugin asked for something the controller does not do (a change outside the
    /// Rollout's namespace, related objects of a cluster-scoped kind...).
    #[error("{plugin} {problem}")]
    Refused { plugin: String, problem: String },
    /// A request to the API server failed.
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("the step machine refused the controller's report; this is a bug in Waxwing: {0}")]
    Machine(#[from] MachineError),
    #[error("a plugin call ended abnormally: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl Error {
    /// Wraps an API error with what was being done.
    pub fn api(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
        let what = what.into();
        move |source| Error::Api {
            what,
            source: Box::new(source),
        }
    }

    /// How a failure during the machine's work is reported to the machine: as the work's
    /// outcome, which lands in the status (a Warning event for a failure), or, for failures a
    /// retry with backoff fixes (an unreachable API server), as the reconcile's error.
    pub fn into_outcome(self) -> Result<WorkOutcome, Error> {
        match &self {
            Error::Plugin(CallError::Plugin {
                error: PluginError::NotReady(_),
                ..
            }) => Ok(WorkOutcome::Pending {
                message: self.to_string(),
            }),
            Error::Api { source, .. } if is_conflict(source) => Ok(WorkOutcome::Pending {
                message: format!("{self}; trying again"),
            }),
            Error::Api { source, .. } if is_refused(source) => Ok(WorkOutcome::Failed {
                message: self.to_string(),
                retry_after: Some(NEEDS_A_PERSON_RETRY),
            }),
            Error::Api { .. } | Error::Machine(_) | Error::Join(_) => Err(self),
            Error::Plugin(_) | Error::Kind(_) | Error::Refused { .. } => Ok(WorkOutcome::Failed {
                message: self.to_string(),
                retry_after: self.retry_after(),
            }),
        }
    }

    /// When to look again at a Rollout held by this failure; `None` when only a change to the
    /// Rollout or its objects can help (a plugin's `invalid-input`: the same input fails the
    /// same way).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Plugin(CallError::Plugin { error, .. }) => match error {
                PluginError::InvalidInput(_) => None,
                PluginError::NotReady(_) => Some(NOT_READY_RETRY),
                PluginError::HostFailure(_) => Some(HOST_FAILURE_RETRY),
                PluginError::Internal(_) => Some(NEEDS_A_PERSON_RETRY),
            },
            _ => Some(NEEDS_A_PERSON_RETRY),
        }
    }

    /// True when the Rollout changed since it was read (a person approved, another writer):
    /// reconcile again from what is there now.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api { source, .. } if is_conflict(source))
    }
}

fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.is_conflict())
}

/// The API server refused the request itself (invalid, forbidden, unknown): sending it again
/// unchanged fails the same way. Throttling and conflicts are not refusals.
fn is_refused(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status)
        if (400..500).contains(&status.code) && status.code != 409 && status.code != 429)
}

#[cfg(test)]
mod tests {
    use super::*;
    use waxwing_runtime::PluginId;

    fn plugin_error(error: PluginError) -> Error {
        Error::Plugin(CallError::Plugin {
            plugin: PluginId {
                name: "deployment".into(),
                sha256: "ab".repeat(32),
            },
            function: "check-batch",
            error,
        })
    }

    /// An error as the API server sends it: a code and its reason.
    fn api_error(code: u16) -> Error {
        let reason = match code {
            409 => "Conflict",
            422 => "Invalid",
            429 => "TooManyRequests",
            _ => "ServiceUnavailable",
        };
        Error::Api {
            what: "patching Deployment web".into(),
            source: Box::new(kube::Error::Api(Box::new(kube::core::Status {
                code,
                reason: reason.into(),
                message: "nope".into(),
                ..kube::core::Status::default()
            }))),
        }
    }

    #[test]
    fn a_plugin_that_is_not_ready_keeps_the_work_pending() {
        let outcome = plugin_error(PluginError::NotReady("no ReplicaSet yet".into()))
            .into_outcome()
            .unwrap();
        let WorkOutcome::Pending { message } = outcome else {
            panic!("expected Pending, got {outcome:?}");
        };
        assert!(
            message.contains("deployment"),
            "names the plugin: {message}"
        );
        assert!(message.contains("no ReplicaSet yet"), "{message}");
    }

    #[test]
    fn invalid_input_fails_until_something_changes() {
        let outcome = plugin_error(PluginError::InvalidInput("empty selector".into()))
            .into_outcome()
            .unwrap();
        assert!(matches!(
            outcome,
            WorkOutcome::Failed {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn other_plugin_failures_are_retried_later() {
        let outcome = plugin_error(PluginError::Internal("bug".into()))
            .into_outcome()
            .unwrap();
        assert!(matches!(
            outcome,
            WorkOutcome::Failed {
                retry_after: Some(NEEDS_A_PERSON_RETRY),
                ..
            }
        ));
    }

    #[test]
    fn api_errors_split_into_pending_failed_and_retried() {
        assert!(matches!(
            api_error(409).into_outcome(),
            Ok(WorkOutcome::Pending { .. })
        ));
        assert!(matches!(
            api_error(422).into_outcome(),
            Ok(WorkOutcome::Failed { .. })
        ));
        assert!(api_error(503).into_outcome().is_err());
        assert!(api_error(429).into_outcome().is_err());
        assert!(api_error(409).is_conflict());
        assert!(!api_error(422).is_conflict());
    }
}
