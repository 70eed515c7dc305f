//! One webhook identity for every replica: the first replica to start generates the CA and
//! serving certificate and stores them in the Secret `waxwing-webhook-tls` of the controller's
//! namespace; the others load it. Otherwise each replica would register its own `caBundle` and
//! the API server would distrust every replica but the last one to start.

use std::collections::BTreeMap;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};

use super::tls::Identity;

pub const SECRET_NAME: &str = "waxwing-webhook-tls";
/// The DNS names and addresses the stored certificate is valid for, comma-separated: a replica
/// started with other names (another Service, URL mode) replaces it.
const NAMES_ANNOTATION: &str = "waxwing.io/certificate-names";

/// The identity stored in the Secret if it fits `names`, else a new one, stored.
pub async fn load_or_create(
    client: Client,
    namespace: &str,
    names: &[String],
) -> anyhow::Result<Identity> {
    let secrets: Api<Secret> = Api::namespaced(client, namespace);
    let wanted = names.join(",");
    // Two rounds: losing a create or replace race to another replica means its identity is
    // the one to load.
    for _ in 0..2 {
        let existing = secrets
            .get_opt(SECRET_NAME)
            .await
            .with_context(|| format!("reading Secret {namespace}/{SECRET_NAME}"))?;
        if let Some(secret) = &existing
            && secret.annotations().get(NAMES_ANNOTATION) == Some(&wanted)
            && let Some(identity) = secret.data.as_ref().and_then(Identity::from_secret_data)
        {
            tracing::info!(secret = SECRET_NAME, "using the shared webhook certificate");
            return Ok(identity);
        }
        let identity = Identity::generate(names)?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(SECRET_NAME.to_owned()),
                annotations: Some(BTreeMap::from([(
                    NAMES_ANNOTATION.to_owned(),
                    wanted.clone(),
                )])),
                resource_version: existing.as_ref().and_then(|s| s.resource_version()),
                ..ObjectMeta::default()
            },
            data: Some(identity.to_secret_data()),
            type_: Some("Opaque".to_owned()),
            ..Secret::default()
        };
        let written = match &existing {
            None => secrets.create(&PostParams::default(), &secret).await,
            Some(_) => {
                secrets
                    .replace(SECRET_NAME, &PostParams::default(), &secret)
                    .await
            }
        };
        match written {
            Ok(_) => {
                tracing::info!(
                    secret = SECRET_NAME,
                    ?names,
                    "stored a new webhook certificate"
                );
                return Ok(identity);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("writing Secret {namespace}/{SECRET_NAME}"));
            }
        }
    }
    anyhow::bail!("Secret {namespace}/{SECRET_NAME} keeps changing under this replica")
}
