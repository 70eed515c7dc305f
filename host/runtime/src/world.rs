//! The three plugin worlds and what the host expects of each.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The WIT package every world lives in; a component must match its major.minor version.
pub const WIT_PACKAGE: &str = "waxwing:plugin";
/// The version of [`WIT_PACKAGE`] this host implements.
pub const WIT_VERSION: &str = "0.1.0";

/// Which world of the plugin contract a component implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    Workload,
    Traffic,
    Policy,
}

impl World {
    pub const ALL: [World; 3] = [World::Workload, World::Traffic, World::Policy];

    /// The world whose interface `wasm` exports (any version of the package), read from the
    /// component's export sections without compiling it; `None` for anything else.
    pub fn exported_by(wasm: &[u8]) -> Option<World> {
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            let Ok(wasmparser::Payload::ComponentExportSection(exports)) = payload else {
                if payload.is_err() {
                    return None;
                }
                continue;
            };
            for export in exports.into_iter().flatten() {
                let interface =
                    parse_interface_name(export.name.name).map(|(interface, _)| interface);
                let found = World::ALL
                    .into_iter()
                    .find(|world| interface == Some(world.interface()));
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    /// The name used in the plugin ConfigMap and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            World::Workload => "workload",
            World::Traffic => "traffic",
            World::Policy => "policy",
        }
    }

    /// The name of the exported interface, without package or version (`workload`).
    pub fn interface(self) -> &'static str {
        self.as_str()
    }

    /// The exported interface's full name, `waxwing:plugin/workload@0.1.0`.
    pub fn export_name(self) -> String {
        format!("{WIT_PACKAGE}/{}@{WIT_VERSION}", self.interface())
    }

    /// The functions the exported interface must provide, by WIT name.
    pub fn functions(self) -> &'static [&'static str] {
        match self {
            World::Workload => &[
                "related-objects",
                "observe",
                "takeover",
                "release-batch",
                "check-batch",
                "abort",
                "finalize",
            ],
            World::Traffic => &["route-objects", "route", "restore"],
            World::Policy => &["evaluate"],
        }
    }

    /// The `waxwing:plugin` interfaces a component of this world may import.
    pub fn importable(self) -> &'static [&'static str] {
        match self {
            World::Workload | World::Traffic => &["types", "host"],
            World::Policy => &["types", "host", "metrics"],
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A world name that is not one of `workload`, `traffic`, `policy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown plugin world {0:?}: expected workload, traffic or policy")]
pub struct UnknownWorld(pub String);

impl FromStr for World {
    type Err = UnknownWorld;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        World::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or_else(|| UnknownWorld(s.to_string()))
    }
}

/// Splits `waxwing:plugin/workload@0.1.0` into the interface (`workload`) and whether its version
/// is one this host serves. Returns None for names outside [`WIT_PACKAGE`].
pub(crate) fn parse_interface_name(name: &str) -> Option<(&str, bool)> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
    Some((interface, version_compatible(version)))
}

/// Semver compatibility for a 0.x package: the same major and minor version.
fn version_compatible(version: &str) -> bool {
    let major_minor = |v: &str| {
        let mut parts = v.split('.');
        (
            parts.next().map(str::to_owned),
            parts.next().map(str::to_owned),
        )
    };
    !version.is_empty() && major_minor(version) == major_minor(WIT_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_world_names() {
        assert_eq!("policy".parse::<World>(), Ok(World::Policy));
        let err = "gateway".parse::<World>().unwrap_err();
        assert!(
            err.to_string()
                .contains("expected workload, traffic or policy")
        );
    }

    #[test]
    fn interface_versions_are_matched_by_major_and_minor() {
        assert_eq!(
            parse_interface_name("waxwing:plugin/workload@0.1.0"),
            Some(("workload", true))
        );
        assert_eq!(
            parse_interface_name("waxwing:plugin/workload@0.1.7"),
            Some(("workload", true))
        );
        assert_eq!(
            parse_interface_name("waxwing:plugin/workload@0.2.0"),
            Some(("workload", false))
        );
        assert_eq!(parse_interface_name("wasi:io/streams@0.2.6"), None);
    }
}
