//! `waxwing`: the controller binary and its tools.

mod abort;
mod check;
mod controller;
mod health;
mod leader;
mod metric_providers;
mod metrics;
mod ops;
mod plugin_config;
mod plugin_package;
mod plugin_parts;
mod reconcile;
mod telemetry;
mod undo;
mod view;
mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use waxwing_runtime::World;

/// Progressive delivery for Kubernetes: Kruise Rollout compatible, with WebAssembly plugins.
#[derive(Parser)]
#[command(name = "waxwing", version, about, long_about = None)]
struct Cli {
    /// Log format; the level comes from RUST_LOG (default info).
    #[arg(long, global = true, value_enum, default_value_t)]
    log_format: telemetry::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller: load the plugins, keep them in step with the plugin ConfigMap and
    /// serve health and metrics.
    Controller(ControllerArgs),
    /// Print the CustomResourceDefinitions Waxwing serves, or write them to a directory.
    Crds {
        /// Write one YAML file per CRD into this directory instead of printing them.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Work with plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Approve a Rollout waiting at a manual pause, so it enters its next step (what
    /// `kubectl-kruise rollout approve` does).
    Approve(ops::Target),
    /// Abort the release in progress: traffic goes back to the stable revision and the new
    /// revision is taken out of service, as when an analysis fails; the release then waits for
    /// `retry`, `approve` or `undo`.
    Abort(abort::AbortArgs),
    /// Retry the current step of a release a policy aborted: its batch is released again and
    /// its analysis starts afresh (the same as setting nextStepIndex to the current step).
    Retry(ops::Target),
    /// Show a Rollout as a tree: steps (the current one marked), revisions, pods with their
    /// batch labels. Also works as `kubectl waxwing get rollout NAME` (install the binary as
    /// `kubectl-waxwing`).
    Get(ops::GetArgs),
    /// List Rollouts with their phase, step and state.
    List(ops::ListArgs),
    /// Pause a Rollout (`spec.strategy.paused: true`): no step starts until it is resumed.
    Pause(ops::Target),
    /// Resume a paused Rollout.
    Resume(ops::Target),
    /// Put the workload's pod template back to the stable revision of the release in progress;
    /// the Rollout then cancels the release, traffic back to stable first.
    Undo(ops::Target),
    /// Print where a release is; with --watch, follow it and exit 0 when it completes and
    /// non-zero when it is cancelled or disabled (for CI pipelines).
    Status(ops::StatusArgs),
}

#[derive(clap::Args)]
pub struct ControllerArgs {
    /// Namespace of the plugin ConfigMap (the controller's own namespace in a cluster).
    #[arg(long, env = "POD_NAMESPACE", default_value = "waxwing-system")]
    pub namespace: String,
    /// Name of the plugin ConfigMap; its key `plugins.yaml` lists the plugins.
    #[arg(long, default_value = plugin_config::CONFIGMAP_NAME)]
    pub plugins_configmap: String,
    /// Address for /healthz, /readyz and /metrics.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub metrics_addr: SocketAddr,
    /// Directory for compiled plugins (default: $XDG_CACHE_HOME/waxwing/plugins).
    #[arg(long, value_name = "DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
    /// Rollouts reconciled at the same time.
    #[arg(
        long,
        env = "WAXWING_ROLLOUT_WORKERS",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub rollout_workers: u16,
    #[command(flatten)]
    pub webhook: webhook::WebhookArgs,
    #[command(flatten)]
    pub leader: leader::LeaderArgs,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Load a component, verify it implements a world, and run its golden fixtures.
    ///
    /// Prints one line per check and a table of fixture cases; exits non-zero when any check or
    /// case fails.
    Check {
        /// The component (.wasm).
        file: PathBuf,
        /// The world the component must implement.
        #[arg(long, value_enum)]
        world: WorldArg,
        /// A directory of golden fixtures (`*.json`, one case per file) to run.
        #[arg(long, value_name = "DIR")]
        fixtures: Option<PathBuf>,
    },
    /// Split a component too large for the plugin ConfigMap into part ConfigMaps (gzipped,
    /// 768 KiB each) and print them as YAML; the `plugins.yaml` entry that loads them
    /// (`source: configMaps:NAME`) goes to stderr.
    ///
    /// waxwing plugin package --name NAME FILE.wasm | kubectl apply --server-side -f -
    Package(plugin_package::PackageArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum WorldArg {
    Workload,
    Traffic,
    Policy,
}

impl From<WorldArg> for World {
    fn from(world: WorldArg) -> World {
        match world {
            WorldArg::Workload => World::Workload,
            WorldArg::Traffic => World::Traffic,
            WorldArg::Policy => World::Policy,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Controller(args) => run_controller(args),
        Command::Crds { write } => crds(write),
        Command::Plugin(PluginCommand::Check {
            file,
            world,
            fixtures,
        }) => check::run(&file, world.into(), fixtures.as_deref()),
        Command::Plugin(PluginCommand::Package(args)) => plugin_package::run(args),
        Command::Approve(args) => ops::approve(args),
        Command::Abort(args) => abort::abort(args),
        Command::Retry(args) => ops::retry(args),
        Command::Get(args) => ops::get(args),
        Command::List(args) => ops::list(args),
        Command::Pause(target) => ops::set_paused(target, true),
        Command::Resume(target) => ops::set_paused(target, false),
        Command::Status(args) => ops::status(args),
        Command::Undo(target) => undo::undo(target),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn crds(write: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    match write {
        Some(dir) => {
            for path in waxwing_api::write_crds(&dir)? {
                println!("wrote {}", path.display());
            }
        }
        None => print_stdout(&waxwing_api::crds_yaml())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes to stdout; a closed pipe (`waxwing crds | head`) ends quietly.
fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn run_controller(args: ControllerArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(controller::run(args))?;
    Ok(ExitCode::SUCCESS)
}
