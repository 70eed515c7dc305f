//! The process-wide plugin runtime: one engine, its epoch ticker, the linker of each world and
//! the compile cache.

use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, OptLevel, Strategy};

use crate::bindings::policy::PolicyPlugin as PolicyWorld;
use crate::bindings::traffic::TrafficPlugin as TrafficWorld;
use crate::bindings::workload::WorkloadPlugin as WorkloadWorld;
use crate::cache::{CacheDir, CompileCache};
use crate::error::{EngineError, LoadError, PluginId};
use crate::limits::EPOCH_TICK;
use crate::plugin::{
    CompiledComponent, ComponentInfo, Loaded, Plugin, PluginMeta, PluginSettings, Prepared, Sandbox,
};
use crate::sandbox::{CallState, wasi};
use crate::world_check::check_surface;
use crate::{PolicyPlugin, TrafficPlugin, WorkloadPlugin, World};

/// How the runtime is set up.
#[derive(Clone, Debug, Default)]
pub struct RuntimeOptions {
    pub cache: CacheDir,
}

/// The plugin runtime. Create one per process and clone it freely.
#[derive(Clone)]
pub struct Runtime(Arc<Inner>);

struct Inner {
    engine: Engine,
    workload: Linker<CallState>,
    traffic: Linker<CallState>,
    policy: Linker<CallState>,
    cache: Option<CompileCache>,
}

impl Runtime {
    /// Creates the engine, starts its epoch ticker and opens the compile cache. A cache
    /// directory that cannot be used is logged and the runtime runs without a cache.
    pub fn new(options: RuntimeOptions) -> Result<Runtime, EngineError> {
        let engine = Engine::new(&engine_config()).map_err(|e| EngineError(e.to_string()))?;
        start_epoch_ticker(&engine)
            .map_err(|e| EngineError(format!("cannot start the epoch ticker thread: {e}")))?;
        let linker = |world: World| -> Result<Linker<CallState>, EngineError> {
            world_linker(&engine, world).map_err(|e| EngineError(format!("{world} linker: {e}")))
        };
        let cache = options.cache.resolve().and_then(|root| {
            CompileCache::open(&engine, &root)
                .inspect_err(|e| {
                    tracing::warn!(
                        dir = %root.display(),
                        "plugin compile cache unusable, compiling without it: {e}"
                    )
                })
                .ok()
        });
        Ok(Runtime(Arc::new(Inner {
            workload: linker(World::Workload)?,
            traffic: linker(World::Traffic)?,
            policy: linker(World::Policy)?,
            engine,
            cache,
        })))
    }

    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// The compile cache's directory, when a cache is in use.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.0.cache.as_ref().map(CompileCache::dir)
    }

    /// Compiles wasm bytes, or loads them precompiled from the cache. This is the slow step
    /// (tens of milliseconds to seconds): call it on a blocking thread.
    pub fn compile(&self, name: &str, wasm: &[u8]) -> Result<CompiledComponent, LoadError> {
        let sha256 = sha256_hex(wasm);
        let started = Instant::now();
        let compiled = match &self.0.cache {
            Some(cache) => cache.load_or_compile(&self.0.engine, &sha256, wasm),
            None => wasmtime::component::Component::new(&self.0.engine, wasm),
        };
        let component = compiled.map_err(|e| LoadError::Compile {
            plugin: PluginId {
                name: name.to_string(),
                sha256: sha256.clone(),
            },
            message: format!("{e:#}"),
        })?;
        tracing::debug!(
            plugin = name,
            sha256 = &sha256[..12],
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "compiled plugin"
        );
        Ok(CompiledComponent {
            name: name.to_string(),
            sha256,
            size_bytes: wasm.len(),
            component,
        })
    }

    /// Checks a compiled component against `world` and prepares it to be called with
    /// `settings`. Cheap compared to compiling.
    pub fn prepare(
        &self,
        compiled: &CompiledComponent,
        world: World,
        settings: PluginSettings,
    ) -> Result<Plugin, LoadError> {
        let id = PluginId {
            name: compiled.name.clone(),
            sha256: compiled.sha256.clone(),
        };
        let surface = check_surface(&self.0.engine, &compiled.component, world, &id)?;
        let info = ComponentInfo {
            world,
            sha256: compiled.sha256.clone(),
            size_bytes: compiled.size_bytes,
            export: surface.export,
            imports: surface.imports,
        };
        let sandbox = Sandbox {
            engine: self.0.engine.clone(),
            meta: Arc::new(PluginMeta {
                id,
                limits: settings.limits,
                grants: settings.grants,
            }),
            info,
        };
        Ok(match world {
            World::Workload => Plugin::Workload(WorkloadPlugin(self.prepared(compiled, sandbox)?)),
            World::Traffic => Plugin::Traffic(TrafficPlugin(self.prepared(compiled, sandbox)?)),
            World::Policy => Plugin::Policy(PolicyPlugin(self.prepared(compiled, sandbox)?)),
        })
    }

    /// Compiles and prepares in one step.
    pub fn load(
        &self,
        name: &str,
        wasm: &[u8],
        world: World,
        settings: PluginSettings,
    ) -> Result<Plugin, LoadError> {
        let compiled = self.compile(name, wasm)?;
        self.prepare(&compiled, world, settings)
    }

    /// Verifies that `wasm` is a component of `world` this host can run, for
    /// `waxwing plugin check`. `name` only labels messages.
    pub fn check_component(
        &self,
        name: &str,
        wasm: &[u8],
        world: World,
    ) -> Result<ComponentInfo, LoadError> {
        let plugin = self.load(name, wasm, world, PluginSettings::default())?;
        Ok(plugin.info().clone())
    }

    fn linker(&self, world: World) -> &Linker<CallState> {
        match world {
            World::Workload => &self.0.workload,
            World::Traffic => &self.0.traffic,
            World::Policy => &self.0.policy,
        }
    }

    fn prepared<P: Prepared>(
        &self,
        compiled: &CompiledComponent,
        sandbox: Sandbox,
    ) -> Result<Arc<Loaded<P>>, LoadError> {
        let world = sandbox.info.world;
        let mismatch = |problem: String| LoadError::WorldMismatch {
            plugin: sandbox.meta.id.clone(),
            expected: world,
            problem,
        };
        // WASI imports outside the sandbox's (sockets, HTTP...) were allowed by the surface
        // check; they become functions that trap when called.
        let mut linker = self.linker(world).clone();
        wasi::stub_unprovided(&mut linker, &self.0.engine, &compiled.component)
            .map_err(|e| mismatch(format!("its imports cannot be linked: {e:#}")))?;
        let instance_pre = linker.instantiate_pre(&compiled.component).map_err(|e| {
            mismatch(format!(
                "its imports do not match what the host provides: {e:#}"
            ))
        })?;
        let pre = P::new(instance_pre).map_err(|e| {
            mismatch(format!(
                "its functions do not have the contract's types: {e:#}"
            ))
        })?;
        Ok(Arc::new(Loaded { sandbox, pre }))
    }
}

fn engine_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true)
        .epoch_interruption(true);
    config
}

/// Advances the engine's epoch every tick for as long as the engine lives. The thread holds
/// only a weak reference, so dropping the last runtime ends it.
fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("waxwing-epoch".to_string())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .map(drop)
}

fn world_linker(engine: &Engine, world: World) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker)?;
    match world {
        World::Workload => WorkloadWorld::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?,
        World::Traffic => TrafficWorld::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?,
        World::Policy => PolicyWorld::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?,
    }
    Ok(linker)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
