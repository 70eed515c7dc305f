//! A hostile plugin must never get past its sandbox: every misbehaviour ends in a typed error
//! within the plugin's limits, and the host keeps serving good calls afterwards.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{FakeCluster, hostile, services};
use waxwing_runtime::{
    CallError, Decision, HostServices, Limits, PluginError, PolicyContext, PolicyPlugin,
    RolloutInfo, WorkloadObjects, World,
};

fn limits() -> Limits {
    Limits {
        memory_bytes: 16 * 1024 * 1024,
        timeout: Duration::from_millis(200),
        ..Limits::default()
    }
}

fn ctx(act: &str) -> PolicyContext {
    PolicyContext {
        rollout: RolloutInfo {
            namespace: "default".into(),
            name: "web".into(),
            rollout_id: None,
        },
        step_index: 1,
        step_count: 3,
        elapsed_ms: 0,
        now_unix_ms: 1_700_000_000_000,
        config: format!(r#"{{"act":"{act}"}}"#),
        args: vec![],
    }
}

struct Fixture {
    policy: PolicyPlugin,
    services: Arc<dyn HostServices>,
    cluster: Arc<FakeCluster>,
}

fn fixture() -> Fixture {
    let plugin = hostile(World::Policy, limits());
    let cluster = Arc::new(FakeCluster::default());
    Fixture {
        policy: plugin.as_policy().expect("a policy plugin").clone(),
        services: services(&cluster),
        cluster,
    }
}

impl Fixture {
    fn evaluate(&self, act: &str) -> Result<Decision, CallError> {
        self.policy.evaluate(&self.services, &ctx(act))
    }

    /// A good call must still succeed after whatever happened before.
    fn assert_still_serving(&self) {
        assert!(
            matches!(self.evaluate("proceed"), Ok(Decision::Proceed)),
            "a good call failed after a hostile one"
        );
    }
}

#[test]
fn a_runaway_loop_is_stopped_at_the_deadline() {
    let f = fixture();
    let started = Instant::now();
    let err = f.evaluate("loop").unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, CallError::Timeout { limit, .. } if limit == Duration::from_millis(200)),
        "{err:?}"
    );
    // Generous: the point is that it stops, not how precisely.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(
        err.to_string().starts_with("plugin \"hostile\" (sha256:"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("evaluate: stopped after its time limit of 200 ms"),
        "{err}"
    );
    f.assert_still_serving();
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let f = fixture();
    let err = f.evaluate("allocate").unwrap_err();
    assert!(
        matches!(err, CallError::MemoryLimit { limit, .. } if limit == 16 * 1024 * 1024),
        "{err:?}"
    );
    assert!(err.to_string().contains("memory limit of 16 MiB"), "{err}");
    f.assert_still_serving();
}

#[test]
fn a_panic_is_a_trap_that_carries_the_panic_message() {
    let f = fixture();
    let err = f.evaluate("panic").unwrap_err();
    let CallError::Trap { message, .. } = &err else {
        panic!("expected a trap, got {err:?}");
    };
    assert!(
        message.contains("hostile plugin panics on purpose"),
        "{message}"
    );
    f.assert_still_serving();
}

#[test]
fn unreachable_exit_and_stack_overflow_are_traps() {
    let f = fixture();
    for act in ["unreachable", "exit", "recurse"] {
        let err = f.evaluate(act).unwrap_err();
        assert!(matches!(err, CallError::Trap { .. }), "{act}: {err:?}");
        f.assert_still_serving();
    }
    // wasi:cli/exit only carries success or failure, so exit(3) arrives as exit(1).
    let err = f.evaluate("exit").unwrap_err();
    assert!(err.to_string().contains("called exit(1)"), "{err}");
    let err = f.evaluate("recurse").unwrap_err();
    assert!(err.to_string().contains("stack overflow"), "{err}");
}

#[test]
fn an_oversized_answer_is_refused() {
    let f = fixture();
    let err = f.evaluate("huge-output").unwrap_err();
    assert!(
        matches!(err, CallError::OutputTooLarge { size, limit, .. } if size > 8 * 1024 * 1024 && limit == Limits::DEFAULT_MAX_OUTPUT_BYTES),
        "{err:?}"
    );
    f.assert_still_serving();
}

#[test]
fn a_string_that_is_not_utf8_is_invalid_output() {
    let f = fixture();
    let err = f.evaluate("invalid-utf8").unwrap_err();
    assert!(matches!(err, CallError::InvalidOutput { .. }), "{err:?}");
    assert!(err.to_string().contains("utf-8"), "{err}");
    f.assert_still_serving();
}

#[test]
fn reads_of_ungranted_kinds_are_refused_before_reaching_the_cluster() {
    let f = fixture();
    let err = f.evaluate("read-secret").unwrap_err();
    let CallError::Plugin {
        error: PluginError::HostFailure(message),
        ..
    } = &err
    else {
        panic!("expected the plugin to report the refusal, got {err:?}");
    };
    assert!(message.contains("may not read Secret (v1)"), "{message}");
    assert!(message.contains("grants.read"), "{message}");
    assert_eq!(f.cluster.reads.load(std::sync::atomic::Ordering::SeqCst), 0);

    // The granted kind goes through to the host services.
    let decision = f.evaluate("read-pod").unwrap();
    assert!(
        matches!(&decision, Decision::Pause(pod) if pod.contains("web-0")),
        "{decision:?}"
    );
    assert_eq!(f.cluster.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn no_files_no_environment_no_clock() {
    let f = fixture();
    let err = f.evaluate("read-file").unwrap_err();
    assert!(
        matches!(&err, CallError::Plugin { error: PluginError::HostFailure(m), .. } if m.starts_with("read /etc/hostname")),
        "{err:?}"
    );
    assert!(
        matches!(f.evaluate("env"), Ok(Decision::Proceed)),
        "environment is not empty"
    );
    assert!(
        matches!(f.evaluate("clock"), Ok(Decision::Pause(secs)) if secs == "0"),
        "the wall clock is not frozen at zero"
    );
}

#[test]
fn sleeping_is_refused_instead_of_blocking_the_host() {
    let f = fixture();
    let started = Instant::now();
    let err = f.evaluate("sleep").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(&err, CallError::Trap { message, .. } if message.contains("cannot sleep")),
        "{err:?}"
    );
    f.assert_still_serving();
}

#[test]
fn a_log_flood_is_cut_and_does_not_fail_the_call() {
    let f = fixture();
    assert!(matches!(f.evaluate("log-flood"), Ok(Decision::Proceed)));
}

#[test]
fn workload_answers_that_break_the_json_contract_are_invalid_output() {
    let plugin = hostile(World::Workload, limits());
    let workload = plugin.as_workload().expect("a workload plugin");
    let services = services(&Arc::new(FakeCluster::default()));
    let rollout = RolloutInfo {
        namespace: "default".into(),
        name: "web".into(),
        rollout_id: None,
    };
    let err = workload
        .takeover(
            &services,
            &rollout,
            waxwing_runtime::ReleaseStyle::Partition,
            "{}",
            "{}",
        )
        .unwrap_err();
    assert!(
        matches!(&err, CallError::InvalidOutput { message, .. } if message.starts_with("the merge patch is not JSON")),
        "{err:?}"
    );
    let objects = WorkloadObjects {
        workload: "proceed".into(),
        related: vec![],
    };
    let state = workload.observe(&services, &objects).unwrap();
    assert_eq!(state.replicas, 1);
    let objects = WorkloadObjects {
        workload: "loop".into(),
        related: vec![],
    };
    let err = workload.observe(&services, &objects).unwrap_err();
    assert!(matches!(err, CallError::Timeout { .. }), "{err:?}");
}

/// Many hostile calls, interleaved with good ones, must not make the host's memory grow
/// without bound: every failed instance is freed.
#[test]
fn host_memory_stays_bounded_across_many_hostile_calls() {
    let f = fixture();
    // Warm up allocator and code caches before measuring.
    for act in ["allocate", "panic", "huge-output"] {
        let _ = f.evaluate(act);
    }
    let before = resident_kib();
    for round in 0..60 {
        let act = [
            "allocate",
            "panic",
            "huge-output",
            "invalid-utf8",
            "recurse",
        ][round % 5];
        assert!(f.evaluate(act).is_err(), "{act} succeeded");
        f.assert_still_serving();
    }
    let after = resident_kib();
    // Each allocate call alone maps 16 MiB and each huge answer copies 8 MiB: 60 calls that
    // leaked would add hundreds of MiB.
    assert!(
        after < before + 96 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}
