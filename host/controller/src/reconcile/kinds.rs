//! Kinds by `apiVersion` + `kind`, resolved through API discovery once and remembered: plugins
//! name the kinds they handle, read and change, and only discovery knows their resource paths.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use kube::Client;
use kube::core::{GroupVersion, GroupVersionKind};
use kube::discovery::{self, ApiResource, Scope};

/// A kind the API server serves.
#[derive(Clone, Debug)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Why a kind cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KindError {
    #[error("{api_version:?} is not an apiVersion (write group/version, or v1 for the core group)")]
    BadApiVersion { api_version: String },
    #[error(
        "the API server does not serve {kind} ({api_version}); is its CustomResourceDefinition \
         installed? ({source})"
    )]
    NotServed {
        api_version: String,
        kind: String,
        source: Box<kube::Error>,
    },
}

/// The discovery cache. Only kinds that resolved are remembered, so a CustomResourceDefinition
/// installed later is found on the next attempt.
pub struct Kinds {
    client: Client,
    known: Mutex<HashMap<(String, String), Kind>>,
}

impl Kinds {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            known: Mutex::new(HashMap::new()),
        }
    }

    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Kind, KindError> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(known) = self.known().get(&key) {
            return Ok(known.clone());
        }
        let group_version: GroupVersion =
            api_version.parse().map_err(|_| KindError::BadApiVersion {
                api_version: api_version.to_owned(),
            })?;
        let gvk = GroupVersionKind::gvk(&group_version.group, &group_version.version, kind);
        let (resource, capabilities) =
            discovery::pinned_kind(&self.client, &gvk)
                .await
                .map_err(|source| KindError::NotServed {
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                    source: Box::new(source),
                })?;
        let resolved = Kind {
            resource,
            namespaced: capabilities.scope == Scope::Namespaced,
        };
        self.known().insert(key, resolved.clone());
        Ok(resolved)
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Kind>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
