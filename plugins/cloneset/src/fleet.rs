//! The CloneSet's pods by what a blue-green release does with them, and how the pods that must
//! go are removed.
//!
//! During a blue-green release the stable pods stay at the replica count and the new pods grow
//! batch by batch; every other pod goes. Two kinds of pods must go before a batch:
//! - **abandoned** pods, of neither the stable nor the update revision: the middle revision of
//!   a continuous release (the user changed the template again mid-release);
//! - **surplus** stable pods beyond `replicas`, after the user scaled the CloneSet down.
//!
//! The CloneSet controller cannot be asked to remove them by scaling: it chooses the pods to
//! delete itself, from every revision but the update one. So the plugin marks exactly these
//! pods `apps.kruise.io/specified-delete`, OpenKruise's way to delete a given pod of a CloneSet
//! (lifecycle hooks and PVCs are handled as for any scale-in). A bounded CloneSet deletes no
//! ready pod, marked or not: with every pod unavailable its budget for that is
//! `maxUnavailable + pods - replicas - unavailable pods`, nothing. While marked pods remain, the
//! CloneSet is therefore paused (no update, no surge) with `maxUnavailable: "100%"`, which
//! makes that budget exactly the marked pods (they do not count as unavailable).

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use waxwing_plugin_sdk::workload::BatchContext;
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError, change, pod};

use crate::objects::Objects;

/// OpenKruise's pod label asking the CloneSet controller to delete the pod.
pub const SPECIFIED_DELETE_LABEL: &str = "apps.kruise.io/specified-delete";

/// The CloneSet's live pods, by revision.
#[derive(Debug)]
pub struct Fleet<'a> {
    /// On the release's stable revision: they stay, `replicas` of them.
    pub stable: Vec<&'a Pod>,
    /// On the release's update revision.
    pub new: Vec<&'a Pod>,
    /// On any other revision: they go.
    pub abandoned: Vec<&'a Pod>,
}

impl<'a> Fleet<'a> {
    pub fn of(objects: &'a Objects, ctx: &BatchContext) -> Self {
        let stable = objects.pods_of_revision(&ctx.stable_revision);
        let new = objects.pods_of_revision(&ctx.update_revision);
        let known = |pod: &Pod| {
            stable
                .iter()
                .chain(&new)
                .any(|other| std::ptr::eq(*other, pod))
        };
        let abandoned = objects.pods.iter().filter(|pod| !known(pod)).collect();
        Self {
            stable,
            new,
            abandoned,
        }
    }

    /// The pods that must go before the batch goes on: the abandoned ones, and the stable ones
    /// beyond `replicas`, not-ready and youngest first, as the controller itself would pick
    /// them for a scale-in.
    pub fn doomed(&self, replicas: u32) -> Vec<&'a Pod> {
        let mut stable = self.stable.clone();
        stable.sort_by_key(|pod| {
            (
                pod::is_ready(pod),
                std::cmp::Reverse(pod.metadata.creation_timestamp.clone()),
                pod.metadata.name.clone(),
            )
        });
        let surplus = stable
            .len()
            .saturating_sub(usize::try_from(replicas).unwrap_or(usize::MAX));
        self.abandoned
            .iter()
            .copied()
            .chain(stable.into_iter().take(surplus))
            .collect()
    }

    pub fn stable_count(&self) -> u32 {
        count(&self.stable)
    }

    pub fn new_count(&self) -> u32 {
        count(&self.new)
    }
}

/// The label patches that mark the `doomed` pods not marked yet.
pub fn mark_changes(doomed: &[&Pod]) -> Result<Vec<Change>, PluginError> {
    let body = json!({"metadata": {"labels": {SPECIFIED_DELETE_LABEL: "true"}}});
    doomed
        .iter()
        .filter(|pod| {
            pod.metadata
                .labels
                .as_ref()
                .is_none_or(|labels| !labels.contains_key(SPECIFIED_DELETE_LABEL))
        })
        .map(|pod| Ok(change::merge_patch(ObjectRef::of(*pod)?, &body)))
        .collect()
}

fn count(pods: &[&Pod]) -> u32 {
    u32::try_from(pods.len()).unwrap_or(u32::MAX)
}
