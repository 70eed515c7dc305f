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

/// A command left running (`--watch`), its standard output collected as it comes.
pub struct Running {
    child: tokio::process::Child,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Running {
    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Waits until the command has printed `text`.
    pub async fn wait_for(&self, text: &str) -> Result<()> {
        crate::poll_until(
            &format!("the command to print {text:?}"),
            std::time::Duration::from_secs(30),
            || {
                let shown = self.output();
                let found = shown.contains(text);
                async move {
                    Ok(if found {
                        crate::Check::Done(())
                    } else {
                        crate::Check::Pending(shown)
                    })
                }
            },
        )
        .await
    }

    /// Stops the command; returns everything it printed.
    pub async fn stop(mut self) -> Result<String> {
        self.child.kill().await?;
        Ok(self.output())
    }
}

/// Starts `kubectl waxwing ARGS` as a person does: kubectl finds the `waxwing` binary as the
/// plugin `kubectl-waxwing` on the PATH (a link in target/e2e-kubectl-plugins).
pub fn kubectl_waxwing(args: &[&str]) -> Result<Running> {
    use tokio::io::AsyncReadExt as _;

    let plugins = crate::repo_root().join("target/e2e-kubectl-plugins");
    std::fs::create_dir_all(&plugins)?;
    let link = plugins.join("kubectl-waxwing");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(waxwing_bin(), &link)?;
    let path = format!(
        "{}:{}",
        plugins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child =
        tokio::process::Command::new(crate::repo_root().join("target/cluster/bin/kubectl"))
            .arg("waxwing")
            .args(args)
            .env("KUBECONFIG", crate::kubeconfig_path())
            .env("PATH", path)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = output.clone();
    tokio::spawn(async move {
        let mut buffer = [0u8; 8192];
        while let Ok(read @ 1..) = stdout.read(&mut buffer).await {
            if let Ok(mut sink) = sink.lock() {
                sink.push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        }
    });
    Ok(Running { child, output })
}
