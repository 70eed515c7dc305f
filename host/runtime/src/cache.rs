//! The on-disk compile cache: precompiled components keyed by the sha256 of their wasm, in a
//! directory per engine compatibility hash, so a different wasmtime build or engine
//! configuration never reads another's artifacts.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Where the compile cache lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CacheDir {
    /// `$XDG_CACHE_HOME/waxwing/plugins`, or `$HOME/.cache/waxwing/plugins`.
    #[default]
    Default,
    /// A directory of the operator's choice.
    Path(PathBuf),
    /// Compile every time.
    Disabled,
}

impl CacheDir {
    /// The directory this setting names, if any.
    pub fn resolve(&self) -> Option<PathBuf> {
        match self {
            CacheDir::Path(path) => Some(path.clone()),
            CacheDir::Disabled => None,
            CacheDir::Default => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME")
                            .filter(|v| !v.is_empty())
                            .map(|home| PathBuf::from(home).join(".cache"))
                    })?;
                Some(base.join("waxwing").join("plugins"))
            }
        }
    }
}

pub(crate) struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// Opens (creating it) the cache directory for this engine, and checks it is writable.
    pub(crate) fn open(engine: &Engine, root: &Path) -> io::Result<Self> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!("{:016x}", hasher.finish()));
        std::fs::create_dir_all(&dir)?;
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)?;
        Ok(CompileCache { dir })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn artifact(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    /// The component from the cache, or compiled and stored. A cache that cannot be read or
    /// written only costs a compile, never a failure.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        wasm: &[u8],
    ) -> wasmtime::Result<Component> {
        let path = self.artifact(sha256);
        if path.is_file() {
            // SAFETY: deserializing trusts the file to be machine code Wasmtime produced. This
            // directory is the controller's own: only `store` below writes into it, with a
            // rename so no half-written file is ever visible, and the directory name pins the
            // engine's compatibility hash (Wasmtime also checks its header). Anyone able to
            // write here could already replace the controller binary itself.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(
                    path = %path.display(),
                    "discarding an unusable compiled plugin from the cache: {e}"
                ),
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        if let Err(e) = self.store(&path, &compiled) {
            tracing::warn!(
                path = %path.display(),
                "cannot store a compiled plugin in the cache: {e}"
            );
        }
        // SAFETY: these bytes were produced by `precompile_component` on this very engine a
        // moment ago; they never left this process.
        unsafe { Component::deserialize(engine, &compiled) }
    }

    fn store(&self, path: &Path, compiled: &[u8]) -> io::Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&tmp, compiled)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}
