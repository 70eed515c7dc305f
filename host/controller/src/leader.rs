//! Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does
//! it: every replica serves webhooks, health and metrics; only the holder of the Lease
//! reconciles Rollouts, so no release is ever stepped twice.
//!
//! The holder renews the Lease every `renew` period. A candidate takes it over once its
//! `renewTime` is older than `leaseDurationSeconds`; every write carries the `resourceVersion`
//! it read, so two candidates racing for an expired Lease cannot both win. A holder that fails
//! to renew within the lease duration stops (the process exits non-zero and is restarted):
//! another replica may already be reconciling, and a controller that keeps going would step
//! releases twice.

use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use tokio::time::Instant;

/// The Lease's name, in the controller's namespace.
pub const LEASE_NAME: &str = "waxwing-controller";

#[derive(Clone, Debug, clap::Args)]
pub struct LeaderArgs {
    /// Reconcile only while holding the Lease `waxwing-controller` in the controller's
    /// namespace. Webhooks and metrics are served either way.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    /// This replica's identity in the Lease (default: $POD_NAME, else <hostname>-<pid>).
    #[arg(long, env = "POD_NAME")]
    pub leader_identity: Option<String>,
    /// Seconds a Lease not renewed stays with its holder.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..))]
    pub lease_duration_seconds: u64,
}

pub struct Elector {
    leases: Api<Lease>,
    identity: String,
    duration: Duration,
}

/// The decision for one look at the Lease.
#[derive(Debug, PartialEq, Eq)]
enum Claim {
    /// Nobody holds it (absent, or expired): take it.
    Take,
    /// We hold it: renew it.
    Renew,
    /// Someone else holds it until it expires.
    Wait,
}

fn claim(spec: &LeaseSpec, identity: &str, now: Timestamp) -> Claim {
    if spec.holder_identity.as_deref() == Some(identity) {
        return Claim::Renew;
    }
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    let last = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0.as_second());
    let free = spec.holder_identity.as_deref().is_none_or(str::is_empty);
    match last {
        _ if free => Claim::Take,
        Some(last) if last + duration >= now.as_second() => Claim::Wait,
        _ => Claim::Take,
    }
}

impl Elector {
    pub fn new(client: Client, namespace: &str, args: &LeaderArgs) -> Self {
        let identity = args.leader_identity.clone().unwrap_or_else(|| {
            let host = hostname::get().map_or_else(
                |_| "waxwing".to_owned(),
                |h| h.to_string_lossy().into_owned(),
            );
            format!("{host}-{}", std::process::id())
        });
        Self {
            leases: Api::namespaced(client, namespace),
            identity,
            duration: Duration::from_secs(args.lease_duration_seconds),
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Returns once this replica holds the Lease.
    pub async fn acquire(&self) -> anyhow::Result<()> {
        let mut waiting_for: Option<String> = None;
        loop {
            match self.try_hold().await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    let holder = self.holder().await.unwrap_or_default();
                    if waiting_for.as_ref() != Some(&holder) {
                        tracing::info!(%holder, "another replica leads; standing by");
                        waiting_for = Some(holder);
                    }
                }
                Err(e) => tracing::warn!("cannot read or claim the Lease {LEASE_NAME}: {e:#}"),
            }
            tokio::time::sleep(self.retry()).await;
        }
    }

    /// Renews the Lease for as long as it can; returns an error once leadership is lost.
    pub async fn hold(&self) -> anyhow::Result<()> {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.duration / 3).await;
            match self.try_hold().await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => bail!(
                    "lost the Lease {LEASE_NAME} to {}; stopping so only one replica reconciles",
                    self.holder().await.unwrap_or_default()
                ),
                Err(e) if renewed.elapsed() < self.duration => {
                    tracing::warn!("cannot renew the Lease {LEASE_NAME} (retrying): {e:#}");
                }
                Err(e) => {
                    return Err(e).context(format!(
                        "could not renew the Lease {LEASE_NAME} within {:?}; stopping so only \
                         one replica reconciles",
                        self.duration
                    ));
                }
            }
        }
    }

    /// Gives the Lease up if this replica holds it, so a successor need not wait for it to
    /// expire (client-go's `ReleaseOnCancel`). Best effort: on failure the Lease expires.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.leases.get_opt(LEASE_NAME).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        spec.acquire_time = None;
        match self
            .leases
            .replace(LEASE_NAME, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => tracing::info!("released the Lease {LEASE_NAME}"),
            Err(e) => tracing::warn!("cannot release the Lease {LEASE_NAME}: {e}"),
        }
    }

    fn retry(&self) -> Duration {
        (self.duration / 5).max(Duration::from_millis(500))
    }

    async fn holder(&self) -> anyhow::Result<String> {
        let lease = self.leases.get(LEASE_NAME).await?;
        Ok(lease
            .spec
            .and_then(|s| s.holder_identity)
            .unwrap_or_default())
    }

    /// One look at the Lease: create, renew or take it over when we may. `Ok(true)` when we
    /// hold it afterwards.
    async fn try_hold(&self) -> anyhow::Result<bool> {
        let now = Timestamp::now();
        let seconds = i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.leases.get_opt(LEASE_NAME).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(LEASE_NAME.to_owned()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.leases.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e.into()),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        match claim(spec, &self.identity, now) {
            Claim::Wait => return Ok(false),
            Claim::Renew => spec.renew_time = Some(MicroTime(now)),
            Claim::Take => {
                spec.holder_identity = Some(self.identity.clone());
                spec.acquire_time = Some(MicroTime(now));
                spec.renew_time = Some(MicroTime(now));
                spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
        }
        spec.lease_duration_seconds = Some(seconds);
        // `replace` sends the resourceVersion read above: a concurrent write makes it fail
        // with 409 and this round is lost, never shared.
        let name = lease.name_any();
        match self
            .leases
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: &str, renewed: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(Timestamp::from_second(renewed).unwrap())),
            ..LeaseSpec::default()
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn the_holder_renews() {
        assert_eq!(claim(&spec("a", 100), "a", at(1000)), Claim::Renew);
    }

    #[test]
    fn others_wait_until_the_lease_expires_then_take_it() {
        assert_eq!(claim(&spec("a", 100), "b", at(110)), Claim::Wait);
        assert_eq!(claim(&spec("a", 100), "b", at(115)), Claim::Wait);
        assert_eq!(claim(&spec("a", 100), "b", at(116)), Claim::Take);
    }

    #[test]
    fn a_released_or_empty_lease_is_taken() {
        assert_eq!(claim(&spec("", 100), "b", at(101)), Claim::Take);
        assert_eq!(claim(&LeaseSpec::default(), "b", at(0)), Claim::Take);
    }
}
