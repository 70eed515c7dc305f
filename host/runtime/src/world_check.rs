//! Checks that a compiled component implements the world it is configured for, with a message
//! that says exactly what is missing or extra.

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::World;
use crate::error::{LoadError, PluginId};
use crate::world::{WIT_PACKAGE, WIT_VERSION, parse_interface_name};

/// What the check learned about a component's surface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Surface {
    /// The exact name of the exported world interface (`waxwing:plugin/workload@0.1.0`).
    pub(crate) export: String,
    /// Every import of the component, by name.
    pub(crate) imports: Vec<String>,
}

/// Checks exports and imports by name. The function types are checked afterwards, when the
/// typed bindings are prepared.
pub(crate) fn check_surface(
    engine: &Engine,
    component: &Component,
    world: World,
    plugin: &PluginId,
) -> Result<Surface, LoadError> {
    let mismatch = |problem: String| LoadError::WorldMismatch {
        plugin: plugin.clone(),
        expected: world,
        problem,
    };
    let ty = component.component_type();

    let exports: Vec<(String, ComponentItem)> = ty
        .exports(engine)
        .map(|(name, item)| (name.to_string(), item.ty))
        .collect();
    let ours: Vec<(&str, &str, bool, &ComponentItem)> = exports
        .iter()
        .filter_map(|(name, item)| {
            parse_interface_name(name)
                .map(|(iface, compatible)| (name.as_str(), iface, compatible, item))
        })
        .collect();
    let Some(&(export, _, compatible, item)) = ours.iter().find(|e| e.1 == world.interface())
    else {
        let mut problem = format!(
            "it does not export {WIT_PACKAGE}/{}@{WIT_VERSION}",
            world.interface()
        );
        let others: Vec<&str> = ours.iter().map(|e| e.0).collect();
        if let Some(other) = ours
            .iter()
            .find_map(|e| World::ALL.into_iter().find(|w| w.interface() == e.1))
        {
            problem.push_str(&format!(
                "; it exports {}, so it looks like a {other} plugin",
                others.join(", ")
            ));
        }
        return Err(mismatch(problem));
    };
    if !compatible {
        return Err(mismatch(format!(
            "it exports {export}, a version of the contract this host does not serve \
             (it serves {WIT_VERSION} and compatible 0.1.x versions)"
        )));
    }
    let ComponentItem::ComponentInstance(instance) = item else {
        return Err(mismatch(format!("its export {export} is not an interface")));
    };
    let functions: Vec<String> = instance
        .exports(engine)
        .map(|(n, _)| n.to_string())
        .collect();
    let missing: Vec<&str> = world
        .functions()
        .iter()
        .copied()
        .filter(|f| !functions.iter().any(|have| have == f))
        .collect();
    if !missing.is_empty() {
        return Err(mismatch(format!(
            "its export {export} lacks the function{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }

    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    for import in &imports {
        import_problem(import, world).map_or(Ok(()), |p| Err(mismatch(p)))?;
    }
    Ok(Surface {
        export: export.to_string(),
        imports,
    })
}

/// Why the host cannot satisfy one import of a component of `world`.
fn import_problem(import: &str, world: World) -> Option<String> {
    if let Some((iface, compatible)) = parse_interface_name(import) {
        if !world.importable().contains(&iface) {
            let who = if iface == "metrics" {
                ", which only policy plugins get"
            } else {
                ", which the host does not provide"
            };
            return Some(format!("it imports {import}{who}"));
        }
        if !compatible {
            return Some(format!(
                "it imports {import}, a version of the contract this host does not serve"
            ));
        }
        return None;
    }
    // WASI imports are satisfied by the sandbox's WASI, or stubbed so that calling them traps.
    if import.starts_with("wasi:") {
        return None;
    }
    Some(format!(
        "it imports {import}, which the host does not provide"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_for_policy_plugins_only() {
        let import = "waxwing:plugin/metrics@0.1.0";
        assert_eq!(import_problem(import, World::Policy), None);
        assert_eq!(
            import_problem(import, World::Workload).as_deref(),
            Some("it imports waxwing:plugin/metrics@0.1.0, which only policy plugins get")
        );
    }

    #[test]
    fn foreign_imports_are_refused_and_wasi_is_accepted() {
        assert_eq!(
            import_problem("wasi:sockets/tcp@0.2.0", World::Traffic),
            None
        );
        assert_eq!(
            import_problem("waxwing:plugin/host@0.1.3", World::Traffic),
            None
        );
        assert!(
            import_problem("acme:db/query", World::Traffic)
                .unwrap()
                .contains("acme:db/query, which the host does not provide")
        );
        assert!(
            import_problem("waxwing:plugin/host@0.2.0", World::Traffic)
                .unwrap()
                .contains("version")
        );
    }
}
