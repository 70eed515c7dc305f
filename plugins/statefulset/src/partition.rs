//! The partition that puts a batch's pods on the update revision, and which pods that is.
//!
//! A StatefulSet updates the pods whose ordinal, counted from the first one, is at least
//! `rollingUpdate.partition`, highest first. A partition of `replicas - planned` therefore
//! releases exactly the `planned` highest ordinals: with 5 pods, a first batch of 1 updates
//! `web-4`, a second of 2 adds `web-3`. An Advanced StatefulSet with `unorderedUpdate` instead
//! keeps `partition` pods of its choice (by priority) on the current revision, as a CloneSet
//! does.

/// The partition the takeover sets: Kruise's `math.MaxInt16`, above any replica count, so a
/// StatefulSet that scales up while held creates its new pods on the current revision too.
pub const HOLD_ALL: u32 = 32767;

/// The partition that puts `planned` of `replicas` pods on the update revision.
pub fn desired(replicas: u32, planned: u32) -> u32 {
    replicas - planned.min(replicas)
}

/// The position of a pod of `workload` for the partition: the ordinal its name ends with
/// (`<workload>-<ordinal>`), counted from `first_ordinal`. `None` when the name is not one the
/// StatefulSet controller gives.
pub fn position(pod_name: &str, workload: &str, first_ordinal: u32) -> Option<u32> {
    let ordinal = pod_name.strip_prefix(workload)?.strip_prefix('-')?;
    if ordinal.is_empty() || !ordinal.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    ordinal.parse::<u32>().ok()?.checked_sub(first_ordinal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_ordinals_go_first() {
        assert_eq!(desired(5, 1), 4);
        assert_eq!(desired(5, 3), 2);
        assert_eq!(desired(5, 5), 0);
        assert_eq!(desired(5, 9), 0);
    }

    #[test]
    fn positions_come_from_pod_names() {
        assert_eq!(position("web-4", "web", 0), Some(4));
        assert_eq!(position("web-12", "web", 10), Some(2));
        assert_eq!(position("my-web-0", "my-web", 0), Some(0));
        assert_eq!(position("web-1", "web", 2), None);
        assert_eq!(position("web-canary-1", "web", 0), None);
        assert_eq!(position("web-", "web", 0), None);
        assert_eq!(position("web-+1", "web", 0), None);
        assert_eq!(position("webx-1", "web", 0), None);
    }
}
