//! The WASI a plugin gets: enough for a guest's standard library to start (environment, stdio,
//! random numbers, an empty filesystem) and nothing that reaches outside the sandbox.
//!
//! * no arguments, no environment variables, no preopened directories: opening a file fails;
//! * stdin is closed, stdout is discarded, stderr is captured (bounded) to explain crashes;
//! * clocks are frozen at zero and cannot be waited on, so a plugin stays a pure function of its
//!   inputs and cannot block a host thread past its deadline (epoch interruption only stops
//!   code running inside the guest, not a host call such as a sleep);
//! * sockets, HTTP and any other interface are not provided: [`stub_unprovided`] fills them
//!   per component with functions that trap, so a plugin that merely imports them (interpreted
//!   guests import everything their runtime might use) still loads, and one that calls them is
//!   stopped.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasData, Linker, Resource, ResourceTable, ResourceType};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::{self, clocks};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

/// Adds the sandbox's WASI to a linker.
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let l = linker;
    bindings::sync::io::error::add_to_linker::<T, IoTable>(l, io_table)?;
    bindings::sync::io::poll::add_to_linker::<T, IoTable>(l, io_table)?;
    bindings::sync::io::streams::add_to_linker::<T, IoTable>(l, io_table)?;
    bindings::cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    bindings::random::random::add_to_linker::<T, WasiRandom>(l, T::random)?;
    bindings::random::insecure::add_to_linker::<T, WasiRandom>(l, T::random)?;
    bindings::random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)?;
    bindings::sync::filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    bindings::filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    clocks::wall_clock::add_to_linker::<T, FrozenClocks>(l, |_| FrozenClocks)?;
    clocks::monotonic_clock::add_to_linker::<T, FrozenClocks>(l, |_| FrozenClocks)?;
    Ok(())
}

/// The interfaces [`add_to_linker`] provides, without their version.
const PROVIDED: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/exit",
    "wasi:cli/environment",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
];

/// The type of the resources of interfaces the sandbox does not provide. None is ever created,
/// since every function that could create one traps.
struct Unprovided;

/// Defines every WASI interface `component` imports but the sandbox does not provide, with
/// functions that trap. (Wasmtime's `define_unknown_imports_as_traps` cannot be used: it defines
/// stubs under the exact imported name, which shadows a provided interface whose patch version
/// differs from the guest's, e.g. a guest's wasi:cli@0.2.6 against the host's 0.2.12.)
pub(crate) fn stub_unprovided<T>(
    linker: &mut Linker<T>,
    engine: &Engine,
    component: &Component,
) -> wasmtime::Result<()> {
    let ty = component.component_type();
    // Resources are introduced once and then re-exported (`use`d) by later interfaces under
    // the same type; only the first appearance may be defined.
    let mut known_resources: Vec<ResourceType> = Vec::new();
    for (name, import) in ty.imports(engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        let unversioned = name.split_once('@').map_or(name, |(n, _)| n);
        let provided = !name.starts_with("wasi:") || PROVIDED.contains(&unversioned);
        if provided {
            known_resources.extend(instance.exports(engine).filter_map(|(_, e)| match e.ty {
                ComponentItem::Resource(r) => Some(r),
                _ => None,
            }));
            continue;
        }
        let mut stub = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let message = format!(
                        "plugins may not use {name}#{export}: the sandbox does not provide it"
                    );
                    stub.func_new(export, move |_, _, _, _| {
                        Err(wasmtime::Error::msg(message.clone()))
                    })?;
                }
                ComponentItem::Resource(resource) if !known_resources.contains(&resource) => {
                    known_resources.push(resource);
                    stub.resource(export, ResourceType::host::<Unprovided>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn io_table<T: WasiView>(state: &mut T) -> &mut ResourceTable {
    state.ctx().table
}

/// Gives the `wasi:io` bindings the store's resource table.
struct IoTable;

impl HasData for IoTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// Clocks that always read zero and refuse to be waited on.
struct FrozenClocks;

impl HasData for FrozenClocks {
    type Data<'a> = FrozenClocks;
}

const NO_WAITING: &str =
    "plugins cannot sleep or wait on a clock: a plugin call must answer at once";

impl clocks::wall_clock::Host for FrozenClocks {
    fn now(&mut self) -> wasmtime::Result<clocks::wall_clock::Datetime> {
        Ok(clocks::wall_clock::Datetime {
            seconds: 0,
            nanoseconds: 0,
        })
    }

    fn resolution(&mut self) -> wasmtime::Result<clocks::wall_clock::Datetime> {
        Ok(clocks::wall_clock::Datetime {
            seconds: 1,
            nanoseconds: 0,
        })
    }
}

impl clocks::monotonic_clock::Host for FrozenClocks {
    fn now(&mut self) -> wasmtime::Result<clocks::monotonic_clock::Instant> {
        Ok(0)
    }

    fn resolution(&mut self) -> wasmtime::Result<clocks::monotonic_clock::Duration> {
        Ok(1)
    }

    fn subscribe_instant(
        &mut self,
        _when: clocks::monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        wasmtime::bail!(NO_WAITING)
    }

    fn subscribe_duration(
        &mut self,
        _when: clocks::monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        wasmtime::bail!(NO_WAITING)
    }
}
