//! One plugin call's sandbox: a fresh store with its own WASI context, memory cap and epoch
//! deadline, and the translation of whatever went wrong inside it into a [`CallError`].

mod memory;
pub(crate) mod wasi;

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap, WasmBacktrace};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::error::CallError;
use crate::limits::STDERR_CAPTURE_BYTES;
use crate::plugin::PluginMeta;
use crate::services::HostServices;
use memory::MemoryGuard;

/// How much of the captured stderr goes into a crash message.
const STDERR_IN_MESSAGE: usize = 1024;

/// The data of one call's store.
pub(crate) struct CallState {
    pub(crate) plugin: Arc<PluginMeta>,
    pub(crate) services: Arc<dyn HostServices>,
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryGuard,
    stderr: MemoryOutputPipe,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store for exactly one call of `plugin`, with its limits armed.
pub(crate) fn new_store(
    engine: &Engine,
    plugin: Arc<PluginMeta>,
    services: Arc<dyn HostServices>,
) -> Store<CallState> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
    // The builder's defaults are the sandbox: no args, no env, no preopens, closed stdin.
    let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
    let limits = plugin.limits;
    let state = CallState {
        plugin,
        services,
        wasi,
        table: ResourceTable::new(),
        memory: MemoryGuard::new(limits.memory_bytes),
        stderr,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    store.set_epoch_deadline(limits.epoch_ticks());
    store.epoch_deadline_trap();
    store
}

/// Explains a failed instantiation or call. `state` is the failed call's store data; the store
/// itself is dropped afterwards, so nothing of the failure reaches the next call.
pub(crate) fn classify_failure(
    error: wasmtime::Error,
    state: &CallState,
    function: &'static str,
) -> CallError {
    let plugin = state.plugin.id.clone();
    let limits = state.plugin.limits;
    if state.memory.refused() {
        return CallError::MemoryLimit {
            plugin,
            function,
            limit: limits.memory_bytes,
        };
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => CallError::Timeout {
                plugin,
                function,
                limit: limits.timeout,
            },
            Trap::StackOverflow => CallError::Trap {
                plugin,
                function,
                message: "stack overflow (recursion too deep)".to_string(),
            },
            other => CallError::Trap {
                plugin,
                function,
                message: with_stderr(other.to_string(), &state.stderr),
            },
        };
    }
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return CallError::Trap {
            plugin,
            function,
            message: with_stderr(format!("called exit({})", exit.0), &state.stderr),
        };
    }
    let message = error.root_cause().to_string();
    // An error raised while the guest ran (a host function refusing, an import that is not
    // provided) carries a wasm backtrace. One without a backtrace came from lifting the answer
    // out of the guest: the guest broke the canonical ABI, for example with a string that is
    // not UTF-8.
    if error.downcast_ref::<WasmBacktrace>().is_some() {
        CallError::Trap {
            plugin,
            function,
            message: with_stderr(message, &state.stderr),
        }
    } else {
        CallError::InvalidOutput {
            plugin,
            function,
            message,
        }
    }
}

/// Appends the end of what the plugin wrote to stderr (a panic message, usually) to `message`.
fn with_stderr(message: String, stderr: &MemoryOutputPipe) -> String {
    let captured = stderr.contents();
    let text = String::from_utf8_lossy(&captured);
    let text = text.trim();
    if text.is_empty() {
        return message;
    }
    let start = text.len().saturating_sub(STDERR_IN_MESSAGE);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    format!("{message}; the plugin wrote to stderr: {}", &text[start..])
}
