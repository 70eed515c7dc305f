//! The local controller's plugin ConfigMap (`waxwing-system/waxwing-plugins`, written by
//! scripts/controller.sh): tests add plugins to it while the controller runs and wait until it
//! serves them. Entries and metric providers other tests rely on are kept.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, PostParams};

use crate::cli::waxwing_output;
use crate::{Check, apply_yaml, poll_until};

pub const SYSTEM: &str = "waxwing-system";
pub const CONFIGMAP: &str = "waxwing-plugins";

/// `waxwing_plugins_loaded` from the local controller's metrics.
pub async fn plugins_loaded() -> Result<u64> {
    let port = std::env::var("WAXWING_PORT_BASE")
        .ok()
        .and_then(|base| base.parse::<u16>().ok())
        .unwrap_or(29400)
        + 90;
    let out = tokio::process::Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}/metrics")])
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("waxwing_plugins_loaded "))
        .context("no waxwing_plugins_loaded metric")?
        .trim()
        .parse::<f64>()
        .map(|n| n as u64)
        .context("waxwing_plugins_loaded is not a number")
}

/// `plugins_yaml` with `entry` (one list item, `  - name: NAME` first) in place of any entry
/// of the same name, the other entries and the metric providers kept.
pub fn with_entry(plugins_yaml: &str, entry: &str) -> Result<String> {
    let name_line = entry
        .lines()
        .next()
        .filter(|line| line.starts_with("  - name: "))
        .context("a plugin entry starts with `  - name: NAME`")?;
    // The providers go first, so the entry appended at the end lands in the `plugins` list.
    let (providers, plugins) = match plugins_yaml.find("metricProviders:") {
        Some(at) => {
            let rest = &plugins_yaml[at..];
            let end = rest
                .find("\nplugins:")
                .map_or(rest.len(), |plugins_at| plugins_at + 1);
            (
                rest[..end].trim_end().to_owned(),
                format!("{}{}", &plugins_yaml[..at], &rest[end..]),
            )
        }
        None => (String::new(), plugins_yaml.to_owned()),
    };
    let mut kept = Vec::new();
    let mut skipping = false;
    for line in plugins.lines() {
        if line.starts_with("  - ") || !line.starts_with("    ") {
            skipping = line == name_line;
        }
        if !skipping {
            kept.push(line);
        }
    }
    Ok(format!(
        "{providers}\n{}\n{}\n",
        kept.join("\n").trim_end(),
        entry.trim_end()
    ))
}

/// The number of plugin entries in a plugins.yaml.
pub fn entries(plugins_yaml: &str) -> u64 {
    plugins_yaml
        .lines()
        .filter(|line| line.starts_with("  - name: "))
        .count() as u64
}

/// Puts `entry` into the plugin ConfigMap (and `binary_data` beside it), then waits until the
/// controller serves every entry.
pub async fn add_plugin(
    client: &Client,
    entry: &str,
    binary_data: Option<(&str, Vec<u8>)>,
) -> Result<()> {
    let expected = put_entry(client, entry, binary_data).await?;
    poll_until(
        "the controller to serve every plugin",
        Duration::from_secs(120),
        || async {
            let loaded = plugins_loaded().await?;
            Ok(if loaded == expected {
                Check::Done(())
            } else {
                Check::Pending(format!("{loaded} of {expected} plugins loaded"))
            })
        },
    )
    .await
}

/// Puts `entry` into the plugin ConfigMap (and `binary_data` beside it) without waiting for
/// the controller; returns the number of entries it holds now.
pub async fn put_entry(
    client: &Client,
    entry: &str,
    binary_data: Option<(&str, Vec<u8>)>,
) -> Result<u64> {
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), SYSTEM);
    for attempt in 0.. {
        let mut configmap = configmaps.get(CONFIGMAP).await?;
        let data = configmap.data.get_or_insert_default();
        let current = data
            .get("plugins.yaml")
            .context("the plugin ConfigMap has no plugins.yaml")?;
        let updated = with_entry(current, entry)?;
        let expected = entries(&updated);
        data.insert("plugins.yaml".to_owned(), updated);
        if let Some((key, bytes)) = &binary_data {
            configmap
                .binary_data
                .get_or_insert_default()
                .insert((*key).to_owned(), k8s_openapi::ByteString(bytes.clone()));
        }
        match configmaps
            .replace(CONFIGMAP, &PostParams::default(), &configmap)
            .await
        {
            Ok(_) => return Ok(expected),
            // Another test changed it meanwhile: read it again.
            Err(kube::Error::Api(status)) if status.is_conflict() && attempt < 10 => continue,
            Err(error) => bail!("cannot update the plugin ConfigMap: {error}"),
        }
    }
    unreachable!("the loop returns or fails")
}

/// The sha256 of a file, as the plugin ConfigMap pins it.
pub async fn sha256(path: &Path) -> Result<String> {
    let out = tokio::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .await?;
    ensure!(
        out.status.success(),
        "sha256sum {}: {}",
        path.display(),
        out.status
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .context("no digest")?
        .to_owned())
}

/// Ships a component as a user does: `waxwing plugin package --name NAME` into part ConfigMaps
/// of the controller's namespace, applied. Returns the component's sha256 for its entry
/// (`source: configMaps:NAME`).
pub async fn ship(client: &Client, name: &str, wasm: &Path) -> Result<String> {
    ensure!(wasm.exists(), "{} is missing", wasm.display());
    let path = wasm.display().to_string();
    let packaged = waxwing_output(&[
        "plugin",
        "package",
        "--name",
        name,
        "--namespace",
        SYSTEM,
        &path,
    ])
    .await?;
    ensure!(
        packaged.status.success(),
        "waxwing plugin package: {}",
        String::from_utf8_lossy(&packaged.stderr)
    );
    apply_yaml(client, Some(SYSTEM), &String::from_utf8(packaged.stdout)?).await?;
    sha256(wasm).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# comment
plugins:
  - name: pause
    source: builtin:pause
    handles:
      policies: [pause]
  - name: old
    source: file:/old.wasm
metricProviders:
  - {name: prometheus, type: prometheus, address: \"http://127.0.0.1:1\"}
";

    #[test]
    fn an_entry_is_added_and_the_providers_kept() {
        let updated = with_entry(CONFIG, "  - name: new\n    source: file:/new.wasm\n").unwrap();
        assert_eq!(entries(&updated), 3);
        assert!(
            updated.starts_with("metricProviders:\n  - {name: prometheus"),
            "{updated}"
        );
        assert!(
            updated.ends_with("  - name: new\n    source: file:/new.wasm\n"),
            "{updated}"
        );
        let parsed: serde_yaml::Value = serde_yaml::from_str(&updated).unwrap();
        assert_eq!(parsed["plugins"].as_sequence().unwrap().len(), 3);
        assert_eq!(parsed["metricProviders"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn an_entry_of_the_same_name_is_replaced() {
        let updated = with_entry(CONFIG, "  - name: old\n    source: file:/v2.wasm\n").unwrap();
        assert_eq!(entries(&updated), 2);
        assert!(!updated.contains("/old.wasm"), "{updated}");
        let parsed: serde_yaml::Value = serde_yaml::from_str(&updated).unwrap();
        assert_eq!(parsed["plugins"][1]["source"], "file:/v2.wasm");
    }
}
