//! Compiles the built-in plugins to wasm32-wasip2 and generates `builtins.rs`, which embeds
//! them. A plain `cargo build` of the host therefore always carries current plugins.
//!
//! The plugins are built by a nested cargo in a target directory of their own
//! (`<workspace>/target/wasm`): the outer cargo holds the lock of its own target directory for
//! the whole build, so sharing it would deadlock.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The built-in plugins: name, crate directory under `plugins/`, world (a `World` variant).
/// The crate is `waxwing-plugin-<dir>`. Add a plugin here and in `default-plugins.yaml`.
const BUILTINS: &[(&str, &str, &str)] = &[
    ("deployment", "deployment", "Workload"),
    ("cloneset", "cloneset", "Workload"),
    ("statefulset", "statefulset", "Workload"),
    ("ingress", "ingress", "Traffic"),
    ("httproute", "httproute", "Traffic"),
    ("pause", "pause", "Policy"),
    ("prometheus", "prometheus", "Policy"),
];

/// Shared by every plugin crate; a change to any of these rebuilds the plugins.
const SHARED_INPUTS: &[&str] = &["plugins/sdk", "wit", "Cargo.toml", "Cargo.lock"];

/// Variables the outer cargo (or clippy, or a coverage tool) sets that must not reach the
/// nested build: they would retarget it, wrap rustc in clippy-driver, or hand it a jobserver.
const LEAKING_VARS: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
];

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("the workspace root above host/builtin");
    let wasm_root = workspace.join("target").join("wasm");

    for (_, dir, _) in BUILTINS {
        let crate_dir = workspace.join("plugins").join(dir);
        rerun_if_changed(&crate_dir.join("src"));
        rerun_if_changed(&crate_dir.join("Cargo.toml"));
    }
    for input in SHARED_INPUTS {
        rerun_if_changed(&workspace.join(input));
    }

    build_plugins(&workspace, &wasm_root);

    let out_dir = wasm_root.join(TARGET).join(PROFILE);
    let mut table = String::from(
        "/// The built-in plugins: name, world and component bytes.\n\
         pub const BUILTINS: waxwing_runtime::BuiltinTable = &[\n",
    );
    for (name, dir, world) in BUILTINS {
        let wasm = out_dir.join(format!("waxwing_plugin_{}.wasm", dir.replace('-', "_")));
        assert!(
            wasm.is_file(),
            "the plugin build did not produce {}",
            wasm.display()
        );
        let _ = writeln!(
            table,
            "    ({name:?}, waxwing_runtime::World::{world}, include_bytes!({:?})),",
            wasm.display().to_string()
        );
    }
    table.push_str("];\n");
    let generated = PathBuf::from(env("OUT_DIR")).join("builtins.rs");
    std::fs::write(&generated, table).expect("write builtins.rs");
    println!("cargo:rustc-env=WAXWING_WASM_DIR={}", out_dir.display());
}

fn build_plugins(workspace: &Path, wasm_root: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
            "--target-dir",
        ])
        .arg(wasm_root);
    for (_, dir, _) in BUILTINS {
        command.args(["--package", &format!("waxwing-plugin-{dir}")]);
    }
    for var in LEAKING_VARS {
        command.env_remove(var);
    }
    // Cargo reads a build script's stdout for directives, so the nested output goes to stderr.
    command.stdout(Stdio::from(std::io::stderr()));
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the built-in plugins: {e}"));
    assert!(
        status.success(),
        "building the built-in plugins failed ({status}); see the cargo output above, or run \
         `cargo build --target {TARGET} --profile {PROFILE} -p waxwing-plugin-<name>`"
    );
}

fn rerun_if_changed(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}
