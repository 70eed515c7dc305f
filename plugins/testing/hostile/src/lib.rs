//! A hostile plugin for the runtime's sandbox tests.
//!
//! It implements both the workload and the policy interface so the same component can be loaded
//! as either. What it does is chosen by its input: the policy `config` string, or the workload
//! JSON for workload calls. Each act is one way a buggy or malicious plugin can misbehave; the
//! host must turn every one into a typed error within the plugin's limits and keep serving.

wit_bindgen::generate!({
    inline: "
        package waxwing:hostile;

        world hostile {
            import waxwing:plugin/host@0.1.0;
            export waxwing:plugin/workload@0.1.0;
            export waxwing:plugin/policy@0.1.0;
        }
    ",
    path: "../../../wit",
    world: "waxwing:hostile/hostile",
    // Dependencies of an inline world are not generated unless asked for.
    generate_all,
});

use exports::waxwing::plugin::policy::{Decision, PolicyContext};
use exports::waxwing::plugin::workload::{
    BatchContext, BatchStatus, ReleaseStyle, WorkloadObjects, WorkloadState,
};
use waxwing::plugin::host;
use waxwing::plugin::types::{Change, ObjectQuery, PluginError, RolloutInfo};

/// A little more than the host's default 4 MiB output bound, and more than 8 MiB in total.
const HUGE_OUTPUT_BYTES: usize = 8 * 1024 * 1024 + 1;

struct Hostile;

/// Runs one act and returns the text the caller puts in its answer.
fn act(name: &str) -> Result<String, PluginError> {
    match name {
        "proceed" => Ok(String::new()),
        "loop" => {
            // black_box keeps the optimiser from proving the loop useless.
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "allocate" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(std::hint::black_box(vec![1u8; 1024 * 1024]));
            }
        }
        "recurse" => Ok(recurse(u64::MAX).to_string()),
        "panic" => panic!("hostile plugin panics on purpose"),
        "unreachable" => std::process::abort(),
        "exit" => std::process::exit(3),
        "huge-output" => Ok("x".repeat(HUGE_OUTPUT_BYTES)),
        "invalid-utf8" => {
            // SAFETY: deliberately not UTF-8: this plugin tests that the host rejects such a
            // string when it lifts the answer. The string is never inspected inside the guest.
            Ok(unsafe { String::from_utf8_unchecked(vec![0xff, 0xfe, 0xfd]) })
        }
        "read-file" => std::fs::read_to_string("/etc/hostname")
            .map_err(|e| PluginError::HostFailure(format!("read /etc/hostname: {e}"))),
        "env" => Ok(std::env::vars()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")),
        "clock" => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs().to_string())
            .unwrap_or_default()),
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_secs(60));
            Ok("woke up".to_string())
        }
        "read-secret" => host::get_object("v1", "Secret", "default", "credentials")
            .map(|found| found.unwrap_or_default())
            .map_err(PluginError::HostFailure),
        "read-pod" => host::get_object("v1", "Pod", "default", "web-0")
            .map(|found| found.unwrap_or_else(|| "absent".to_string()))
            .map_err(PluginError::HostFailure),
        "log-flood" => {
            let line = "y".repeat(1024 * 1024);
            for _ in 0..16 {
                host::log(host::LogLevel::Info, &line);
            }
            Ok(String::new())
        }
        other => Err(PluginError::InvalidInput(format!("unknown act {other:?}"))),
    }
}

fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        0
    } else {
        std::hint::black_box(recurse(depth - 1)) + 1
    }
}

/// The act named by a policy config `{"act":"NAME"}`; the parsing is deliberately crude to keep
/// this guest free of dependencies.
fn act_from_config(config: &str) -> &str {
    config
        .split('"')
        .skip_while(|part| *part != "act")
        .nth(2)
        .unwrap_or("proceed")
}

impl exports::waxwing::plugin::policy::Guest for Hostile {
    fn evaluate(ctx: PolicyContext) -> Result<Decision, PluginError> {
        let text = act(act_from_config(&ctx.config))?;
        if text.is_empty() {
            Ok(Decision::Proceed)
        } else {
            Ok(Decision::Pause(text))
        }
    }
}

impl exports::waxwing::plugin::workload::Guest for Hostile {
    fn related_objects(workload: String) -> Result<Vec<ObjectQuery>, PluginError> {
        act(&workload)?;
        Ok(Vec::new())
    }

    fn observe(objects: WorkloadObjects) -> Result<WorkloadState, PluginError> {
        let revision = act(&objects.workload)?;
        Ok(WorkloadState {
            replicas: 1,
            stable_revision: revision.clone(),
            update_revision: revision,
            update_pod_template_hash: String::new(),
            stable_pod_template_hash: String::new(),
            settled: true,
            taken_over: false,
            revision_label: String::new(),
        })
    }

    /// Answers with a merge patch that is not JSON.
    fn takeover(
        _rollout: RolloutInfo,
        _style: ReleaseStyle,
        _old: String,
        _new: String,
    ) -> Result<Option<String>, PluginError> {
        Ok(Some("{not json".to_string()))
    }

    /// Answers with an object to apply that has no kind.
    fn release_batch(
        _ctx: BatchContext,
        objects: WorkloadObjects,
    ) -> Result<Vec<Change>, PluginError> {
        act(&objects.workload)?;
        Ok(vec![Change::Apply(
            r#"{"apiVersion":"v1","metadata":{"name":"x","namespace":"default"}}"#.to_string(),
        )])
    }

    fn check_batch(
        _ctx: BatchContext,
        objects: WorkloadObjects,
    ) -> Result<BatchStatus, PluginError> {
        let message = act(&objects.workload)?;
        Ok(BatchStatus {
            updated_replicas: 0,
            updated_ready_replicas: 0,
            ready: message.is_empty(),
            message,
        })
    }

    fn abort(_ctx: BatchContext, objects: WorkloadObjects) -> Result<Vec<Change>, PluginError> {
        act(&objects.workload)?;
        Ok(Vec::new())
    }

    fn finalize(_ctx: BatchContext, objects: WorkloadObjects) -> Result<Vec<Change>, PluginError> {
        act(&objects.workload)?;
        Ok(Vec::new())
    }
}

export!(Hostile);
