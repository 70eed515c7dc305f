//! `waxwing plugin package`: prints the part ConfigMaps of a component too large for the plugin
//! ConfigMap (see `plugin_parts`), ready for `kubectl apply --server-side -f -`, and on stderr
//! the `plugins.yaml` entry that loads it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use waxwing_runtime::World;

use crate::plugin_parts;

#[derive(clap::Args)]
pub struct PackageArgs {
    /// The name the parts carry in their label waxwing.io/plugin-wasm; the plugin entry loads
    /// them with `source: configMaps:NAME`.
    #[arg(long)]
    pub name: String,
    /// The controller's namespace, where it looks for the parts.
    #[arg(long, default_value = "waxwing-system")]
    pub namespace: String,
    /// The component (.wasm).
    pub file: PathBuf,
}

pub fn run(args: PackageArgs) -> anyhow::Result<ExitCode> {
    plugin_parts::check_name(&args.name).map_err(anyhow::Error::msg)?;
    let file = args.file.display();
    let wasm = std::fs::read(&args.file).with_context(|| format!("cannot read {file}"))?;
    anyhow::ensure!(
        wasm.starts_with(b"\0asm"),
        "{file} is not a WebAssembly file (it does not start with \\0asm)"
    );
    let parts = plugin_parts::split(&args.name, &args.namespace, &wasm)?;
    let documents = parts
        .iter()
        .map(serde_yaml::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    crate::print_stdout(&documents.join("---\n"))?;

    let compressed: usize = parts
        .iter()
        .flat_map(|cm| cm.binary_data.iter().flat_map(|d| d.values()))
        .map(|b| b.0.len())
        .sum();
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let name = &args.name;
    eprintln!(
        "# {count} part ConfigMaps in namespace {namespace} ({compressed:.1} MiB gzipped from \
         {size:.1} MiB). Apply them server-side: a client-side `kubectl apply` copies each part \
         into an annotation, which cannot hold it:\n\
         #   waxwing plugin package --name {name} --namespace {namespace} {file} | kubectl apply --server-side -f -\n\
         # A new version replaces the parts; if it has fewer, delete the parts left over.\n\
         # Then list the plugin in plugins.yaml (ConfigMap waxwing-plugins):\n\
         \x20 - name: {name}\n\
         \x20   source: configMaps:{name}\n\
         \x20   sha256: {sha256}\n\
         \x20   world: {world}",
        count = parts.len(),
        namespace = args.namespace,
        compressed = mib(compressed),
        size = mib(wasm.len()),
        sha256 = plugin_parts::sha256_hex(&wasm),
        world = World::exported_by(&wasm).map_or(
            "WORLD  # it exports no waxwing:plugin world; see `waxwing plugin check`",
            World::as_str
        ),
    );
    Ok(ExitCode::SUCCESS)
}
