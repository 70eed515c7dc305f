//! The `waxwing` command line as a user runs it against the test cluster.

use anyhow::{Result, ensure};

/// The `waxwing` binary `make up` runs.
pub fn waxwing_bin() -> String {
    std::env::var("WAXWING_BIN").unwrap_or_else(|_| {
        crate::repo_root()
            .join("target/debug/waxwing")
            .display()
            .to_string()
    })
}

/// Runs the `waxwing` binary with the test cluster's kubeconfig; fails unless it exits 0.
/// Returns its standard output.
pub async fn waxwing(args: &[&str]) -> Result<String> {
    let out = waxwing_output(args).await?;
    ensure!(
        out.status.success(),
        "waxwing {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs the `waxwing` binary with the test cluster's kubeconfig, whatever its exit status.
pub async fn waxwing_output(args: &[&str]) -> Result<std::process::Output> {
    Ok(tokio::process::Command::new(waxwing_bin())
        .args(args)
        .env("KUBECONFIG", crate::kubeconfig_path())
        .output()
        .await?)
}
