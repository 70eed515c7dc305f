//! How a partition batch scales ReplicaSets: Kruise's advanced deployment controller
//! (`pkg/controller/deployment/rolling.go`), which is Kubernetes' rolling update with the new
//! ReplicaSet capped at the batch's limit, as arithmetic on ReplicaSet sizes.
//!
//! One plan is what two consecutive reconciles of that controller do before any pod changes:
//! 1. **New ReplicaSet up**: towards the limit, never beyond `replicas + maxSurge` pods in
//!    total. A ReplicaSet created with `maxSurge: 0` starts at one pod, or the native
//!    controller, seeing a single active ReplicaSet below the desired count, would scale the
//!    old one straight back up.
//! 2. **Old ReplicaSets down** (or up, when the Deployment grew and the old ones hold fewer pods
//!    than `replicas - limit`): unhealthy pods first, oldest ReplicaSet first; then healthy
//!    ones, highest revision first, only as far as availability allows: the pods counted as
//!    available must stay at `replicas - maxUnavailable` or more, and new pods that are not
//!    available yet count against that. So old pods go as the new ones become available, and
//!    the old ReplicaSets never shrink below `replicas - max(limit, new)`.
//!
//! The new ReplicaSet is never scaled down below the limit it reached (a batch never takes
//! pods back), only down to `replicas` when the Deployment shrank.

/// The sizes a plan starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// The Deployment's desired replicas.
    pub replicas: u32,
    /// How many pods the new ReplicaSet may run in this batch.
    pub limit: u32,
    pub max_surge: u32,
    pub max_unavailable: u32,
    /// The ReplicaSet running the Deployment's template; `None` when it does not exist yet.
    pub new: Option<Size>,
    /// The other active or inactive ReplicaSets, oldest first.
    pub old: Vec<OldSize>,
}

/// A ReplicaSet's desired and available pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub replicas: u32,
    pub available: u32,
}

/// An old ReplicaSet's size and its `deployment.kubernetes.io/revision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OldSize {
    pub replicas: u32,
    pub available: u32,
    pub revision: u64,
}

/// The desired replicas of each ReplicaSet; `old` in the order of [`Fleet::old`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub new: u32,
    pub old: Vec<u32>,
}

/// Plans the next sizes. A fleet that needs no change plans its current sizes.
pub fn plan(fleet: &Fleet) -> Plan {
    let new = plan_new(fleet);
    Plan {
        new,
        old: plan_old(fleet, new),
    }
}

fn plan_new(fleet: &Fleet) -> u32 {
    let old_pods: u32 = fleet.old.iter().map(|rs| rs.replicas).sum();
    match fleet.new {
        None => {
            let lower_bound = if fleet.max_surge > 0 {
                0
            } else {
                fleet.replicas.min(1)
            };
            scaled_up(fleet, 0, old_pods).max(lower_bound)
        }
        Some(new) if new.replicas >= fleet.replicas => fleet.replicas,
        Some(new) => scaled_up(fleet, new.replicas, old_pods),
    }
}

/// Kubernetes' `NewRSNewReplicas` with Kruise's limit.
fn scaled_up(fleet: &Fleet, new: u32, old_pods: u32) -> u32 {
    if old_pods == 0 {
        return fleet.replicas;
    }
    let total = old_pods + new;
    let max_total = fleet.replicas + fleet.max_surge;
    if new >= fleet.limit || total >= max_total {
        return new;
    }
    let room = (max_total - total).min(fleet.replicas.saturating_sub(new));
    (new + room).min(fleet.limit)
}

fn plan_old(fleet: &Fleet, new: u32) -> Vec<u32> {
    let mut sizes: Vec<i64> = fleet.old.iter().map(|rs| i64::from(rs.replicas)).collect();
    let old_pods: i64 = sizes.iter().sum();
    if old_pods == 0 {
        return to_u32(sizes);
    }
    let replicas = i64::from(fleet.replicas);
    let new = i64::from(new);
    // What the old ReplicaSets must keep: everything the batch does not hand to the new one.
    let keep_old = replicas - new.max(i64::from(fleet.limit));
    let above_keep = |sizes: &[i64]| sizes.iter().sum::<i64>() - keep_old;

    let excess = above_keep(&sizes);
    if excess <= 0 {
        // The Deployment grew: the largest (then oldest) old ReplicaSet takes the difference.
        if let Some(largest) = (0..sizes.len()).max_by_key(|&i| (sizes[i], std::cmp::Reverse(i))) {
            sizes[largest] -= excess;
        }
        return to_u32(sizes);
    }

    let new_available = i64::from(fleet.new.map_or(0, |rs| rs.available));
    let min_available = replicas - i64::from(fleet.max_unavailable);
    let new_unavailable = new - new_available;
    let max_scaled_down = (old_pods + new - min_available - new_unavailable).min(excess);
    if max_scaled_down <= 0 {
        return to_u32(sizes);
    }

    // Unhealthy old pods first, oldest ReplicaSet first: removing them costs no availability.
    let mut cleaned = 0;
    for (size, rs) in sizes.iter_mut().zip(&fleet.old) {
        let unhealthy = *size - i64::from(rs.available);
        if cleaned >= max_scaled_down || unhealthy <= 0 {
            continue;
        }
        let down = (max_scaled_down - cleaned).min(unhealthy);
        *size -= down;
        cleaned += down;
    }

    // Then healthy ones, as far as availability allows, the highest revision first.
    let available: i64 = fleet
        .old
        .iter()
        .map(|rs| i64::from(rs.available))
        .sum::<i64>()
        + new_available;
    let mut to_remove = (available - min_available).min(above_keep(&sizes));
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(fleet.old[i].revision), i));
    for i in order {
        if to_remove <= 0 {
            break;
        }
        let down = sizes[i].min(to_remove);
        sizes[i] -= down;
        to_remove -= down;
    }
    to_u32(sizes)
}

fn to_u32(sizes: Vec<i64>) -> Vec<u32> {
    sizes
        .into_iter()
        .map(|size| u32::try_from(size).unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn old(replicas: u32, available: u32, revision: u64) -> OldSize {
        OldSize {
            replicas,
            available,
            revision,
        }
    }

    fn fleet(replicas: u32, limit: u32, new: Option<Size>, old: Vec<OldSize>) -> Fleet {
        // 25% / 25% of 10 replicas: surge 3, unavailable 2.
        Fleet {
            replicas,
            limit,
            max_surge: 3,
            max_unavailable: 2,
            new,
            old,
        }
    }

    #[test]
    fn first_batch_creates_the_new_replica_set_within_surge_and_limit() {
        let start = fleet(10, 2, None, vec![old(10, 10, 1)]);
        // New 0 -> 2 (limit); old may lose 10 + 2 - 8 - 2 (unavailable new) = 2 pods.
        assert_eq!(
            plan(&start),
            Plan {
                new: 2,
                old: vec![8]
            }
        );
    }

    #[test]
    fn old_pods_wait_for_new_ones_to_become_available() {
        let waiting = fleet(
            10,
            5,
            Some(Size {
                replicas: 5,
                available: 0,
            }),
            vec![old(8, 8, 1)],
        );
        // 13 pods, 8 must stay available, 5 new unavailable: nothing more can go.
        assert_eq!(
            plan(&waiting),
            Plan {
                new: 5,
                old: vec![8]
            }
        );
        let ready = fleet(
            10,
            5,
            Some(Size {
                replicas: 5,
                available: 5,
            }),
            vec![old(8, 8, 1)],
        );
        assert_eq!(
            plan(&ready),
            Plan {
                new: 5,
                old: vec![5]
            }
        );
    }

    #[test]
    fn unhealthy_old_pods_go_first_and_oldest_first() {
        let start = fleet(
            10,
            4,
            Some(Size {
                replicas: 4,
                available: 4,
            }),
            vec![old(3, 1, 1), old(5, 5, 2)],
        );
        // Excess 8 - 6 = 2: both unhealthy pods of the oldest ReplicaSet.
        assert_eq!(
            plan(&start),
            Plan {
                new: 4,
                old: vec![1, 5]
            }
        );
    }

    #[test]
    fn healthy_old_pods_go_highest_revision_first() {
        let start = fleet(
            10,
            6,
            Some(Size {
                replicas: 6,
                available: 6,
            }),
            vec![old(4, 4, 1), old(3, 3, 2)],
        );
        assert_eq!(
            plan(&start),
            Plan {
                new: 6,
                old: vec![4, 0]
            }
        );
    }

    #[test]
    fn growth_mid_batch_goes_to_the_largest_old_replica_set() {
        let grown = fleet(
            14,
            4,
            Some(Size {
                replicas: 4,
                available: 4,
            }),
            vec![old(2, 2, 1), old(4, 4, 2)],
        );
        assert_eq!(
            plan(&grown),
            Plan {
                new: 4,
                old: vec![2, 8]
            }
        );
    }

    #[test]
    fn shrink_mid_batch_never_takes_pods_from_the_new_replica_set() {
        let shrunk = fleet(
            5,
            2,
            Some(Size {
                replicas: 4,
                available: 4,
            }),
            vec![old(6, 6, 1)],
        );
        let plan = plan(&Fleet {
            max_surge: 2,
            max_unavailable: 1,
            ..shrunk
        });
        assert_eq!(
            plan,
            Plan {
                new: 4,
                old: vec![1]
            }
        );
    }

    #[test]
    fn without_surge_the_new_replica_set_starts_with_one_pod() {
        let start = Fleet {
            max_surge: 0,
            max_unavailable: 1,
            ..fleet(4, 2, None, vec![old(4, 4, 1)])
        };
        assert_eq!(
            plan(&start),
            Plan {
                new: 1,
                old: vec![3]
            }
        );
    }

    #[test]
    fn full_limit_moves_every_pod() {
        let last = fleet(
            10,
            10,
            Some(Size {
                replicas: 8,
                available: 8,
            }),
            vec![old(2, 2, 1)],
        );
        assert_eq!(
            plan(&last),
            Plan {
                new: 10,
                old: vec![0]
            }
        );
    }

    /// Runs plans to a fixed point with every pod available at once.
    fn settle(mut fleet: Fleet) -> Fleet {
        for _ in 0..100 {
            let next = plan(&fleet);
            let settled = Fleet {
                new: Some(Size {
                    replicas: next.new,
                    available: next.new,
                }),
                old: fleet
                    .old
                    .iter()
                    .zip(&next.old)
                    .map(|(rs, &size)| old(size, size, rs.revision))
                    .collect(),
                ..fleet.clone()
            };
            if settled == fleet {
                return fleet;
            }
            fleet = settled;
        }
        panic!("no fixed point for {fleet:?}");
    }

    proptest! {
        #[test]
        fn a_batch_converges_to_its_limit_without_exceeding_surge(
            replicas in 1u32..40,
            limit_share in 1u32..=100,
            surge in 0u32..5,
            unavailable in 0u32..5,
            split in 0u32..=100,
        ) {
            let limit = (replicas * limit_share).div_ceil(100).max(1);
            let unavailable = if surge == 0 { unavailable.max(1) } else { unavailable }.min(replicas);
            let first = replicas * split / 100;
            let start = Fleet {
                replicas,
                limit,
                max_surge: surge,
                max_unavailable: unavailable,
                new: None,
                old: vec![old(first, first, 1), old(replicas - first, replicas - first, 2)],
            };
            let step = plan(&start);
            prop_assert!(step.new + step.old.iter().sum::<u32>() <= replicas + surge);
            let end = settle(start);
            let new = end.new.map_or(0, |rs| rs.replicas);
            prop_assert_eq!(new, limit);
            prop_assert_eq!(new + end.old.iter().map(|rs| rs.replicas).sum::<u32>(), replicas);
        }
    }
}
