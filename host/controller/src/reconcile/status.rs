//! Writes to the Rollout itself: its status (through the status subresource) and its
//! finalizer. Every write carries the resourceVersion the reconcile read, so a change made
//! meanwhile, such as a person's approval, is never overwritten: the write fails with a
//! conflict and the next reconcile starts from what is there now.

use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use waxwing_api::labels::ROLLOUT_FINALIZER;
use waxwing_api::v1beta1::{Rollout, RolloutStatus};

use super::error::Error;

/// Writes `status` unless it is what the Rollout already has. Returns the updated Rollout, or
/// `None` when nothing needed writing.
pub async fn write(
    api: &Api<Rollout>,
    rollout: &Rollout,
    status: RolloutStatus,
) -> Result<Option<Rollout>, Error> {
    if rollout.status.as_ref() == Some(&status) {
        return Ok(None);
    }
    let mut body = Rollout {
        metadata: rollout.metadata.clone(),
        spec: rollout.spec.clone(),
        status: Some(status),
    };
    // Sent back unchanged, managed fields would only be checked; left out, they stay.
    body.metadata.managed_fields = None;
    let written = api
        .replace_status(&rollout.name_any(), &PostParams::default(), &body)
        .await
        .map_err(Error::api("writing the Rollout's status"))?;
    Ok(Some(written))
}

pub fn has_finalizer(rollout: &Rollout) -> bool {
    rollout.finalizers().iter().any(|f| f == ROLLOUT_FINALIZER)
}

/// Adds the finalizer, so a deleted Rollout hands its workload back before it goes.
pub async fn add_finalizer(api: &Api<Rollout>, rollout: &Rollout) -> Result<Rollout, Error> {
    let mut finalizers = rollout.finalizers().to_vec();
    finalizers.push(ROLLOUT_FINALIZER.to_owned());
    set_finalizers(api, rollout, finalizers, "adding the finalizer").await
}

/// Removes the finalizer once the Rollout has handed everything back; the API server then
/// deletes it.
pub async fn remove_finalizer(api: &Api<Rollout>, rollout: &Rollout) -> Result<(), Error> {
    let finalizers = rollout
        .finalizers()
        .iter()
        .filter(|f| *f != ROLLOUT_FINALIZER)
        .cloned()
        .collect();
    set_finalizers(api, rollout, finalizers, "removing the finalizer")
        .await
        .map(drop)
}

async fn set_finalizers(
    api: &Api<Rollout>,
    rollout: &Rollout,
    finalizers: Vec<String>,
    what: &str,
) -> Result<Rollout, Error> {
    // A merge patch replaces the whole list; the resourceVersion makes it fail rather than
    // drop a finalizer someone else added meanwhile.
    let patch = json!({
        "metadata": {
            "resourceVersion": rollout.resource_version(),
            "finalizers": finalizers,
        }
    });
    api.patch(
        &rollout.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await
    .map_err(Error::api(what))
}
