//! Loaded plugins: a compiled component, prepared for its world, with its limits and grants.

use std::sync::Arc;

use wasmtime::component::{Component, InstancePre};
use wasmtime::{Engine, Store};

use crate::World;
use crate::answer::Answer;
use crate::bindings::policy::PolicyPluginPre;
use crate::bindings::traffic::TrafficPluginPre;
use crate::bindings::workload::WorkloadPluginPre;
use crate::error::{CallError, PluginId};
use crate::limits::Limits;
use crate::sandbox::{self, CallState};
use crate::services::{Grants, HostServices};
use crate::{PluginError, PolicyPlugin, TrafficPlugin, WorkloadPlugin};

/// What every call of a plugin needs to know about it.
#[derive(Debug)]
pub(crate) struct PluginMeta {
    pub(crate) id: PluginId,
    pub(crate) limits: Limits,
    pub(crate) grants: Grants,
}

/// The settings a plugin runs with, from its ConfigMap entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginSettings {
    pub limits: Limits,
    pub grants: Grants,
}

/// A component compiled for this process's engine. Compiling is the slow step; preparing the
/// same component again with other settings is cheap.
#[derive(Clone)]
pub struct CompiledComponent {
    pub(crate) name: String,
    pub(crate) sha256: String,
    pub(crate) size_bytes: usize,
    pub(crate) component: Component,
}

impl CompiledComponent {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Lowercase hex sha256 of the wasm bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// What `check_component` and a successful load know about a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentInfo {
    pub world: World,
    pub sha256: String,
    pub size_bytes: usize,
    /// The exported interface, e.g. `waxwing:plugin/workload@0.1.0`.
    pub export: String,
    /// The component's imports by name (host interfaces and WASI).
    pub imports: Vec<String>,
}

/// A plugin ready to be called, of one of the three worlds. Cloning is cheap.
#[derive(Clone)]
pub enum Plugin {
    Workload(WorkloadPlugin),
    Traffic(TrafficPlugin),
    Policy(PolicyPlugin),
}

impl Plugin {
    pub fn id(&self) -> &PluginId {
        &self.sandbox().meta.id
    }

    pub fn world(&self) -> World {
        self.info().world
    }

    pub fn info(&self) -> &ComponentInfo {
        &self.sandbox().info
    }

    pub fn limits(&self) -> Limits {
        self.sandbox().meta.limits
    }

    pub fn grants(&self) -> &Grants {
        &self.sandbox().meta.grants
    }

    pub fn as_workload(&self) -> Option<&WorkloadPlugin> {
        match self {
            Plugin::Workload(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_traffic(&self) -> Option<&TrafficPlugin> {
        match self {
            Plugin::Traffic(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_policy(&self) -> Option<&PolicyPlugin> {
        match self {
            Plugin::Policy(p) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn sandbox(&self) -> &Sandbox {
        match self {
            Plugin::Workload(p) => &p.0.sandbox,
            Plugin::Traffic(p) => &p.0.sandbox,
            Plugin::Policy(p) => &p.0.sandbox,
        }
    }

    /// The untyped prepared instance, for calls by name (golden fixtures).
    pub(crate) fn instance_pre(&self) -> &InstancePre<CallState> {
        match self {
            Plugin::Workload(p) => p.0.pre.instance_pre(),
            Plugin::Traffic(p) => p.0.pre.instance_pre(),
            Plugin::Policy(p) => p.0.pre.instance_pre(),
        }
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", self.id())
            .field("world", &self.world())
            .finish_non_exhaustive()
    }
}

/// Everything needed to run one call of a plugin in a fresh store.
pub(crate) struct Sandbox {
    pub(crate) engine: Engine,
    pub(crate) meta: Arc<PluginMeta>,
    pub(crate) info: ComponentInfo,
}

impl Sandbox {
    /// Runs `body` in a store of its own and explains any failure. The store is dropped on
    /// return, whatever happened, so a trap never reaches the next call.
    pub(crate) fn run<R>(
        &self,
        services: &Arc<dyn HostServices>,
        function: &'static str,
        body: impl FnOnce(&mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let mut store = sandbox::new_store(&self.engine, self.meta.clone(), services.clone());
        body(&mut store).map_err(|error| sandbox::classify_failure(error, store.data(), function))
    }

    /// Fails with `OutputTooLarge` when an answer carries more text than the plugin may return.
    pub(crate) fn check_output_size(
        &self,
        function: &'static str,
        size: usize,
    ) -> Result<(), CallError> {
        let limit = self.meta.limits.max_output_bytes;
        if size > limit {
            return Err(CallError::OutputTooLarge {
                plugin: self.meta.id.clone(),
                function,
                size,
                limit,
            });
        }
        Ok(())
    }

    /// Turns a typed answer into the call's result, after checking its size and contract.
    pub(crate) fn accept<R: Answer>(
        &self,
        function: &'static str,
        answer: Result<R, PluginError>,
    ) -> Result<R, CallError> {
        match answer {
            Ok(value) => {
                self.check_output_size(function, value.text_bytes())?;
                match value.contract_violation() {
                    Some(message) => Err(CallError::InvalidOutput {
                        plugin: self.meta.id.clone(),
                        function,
                        message,
                    }),
                    None => Ok(value),
                }
            }
            Err(error) => {
                self.check_output_size(function, error.text_bytes())?;
                Err(CallError::Plugin {
                    plugin: self.meta.id.clone(),
                    function,
                    error,
                })
            }
        }
    }
}

/// A plugin of one world: its sandbox and its typed, prepared bindings.
pub(crate) struct Loaded<P> {
    pub(crate) sandbox: Sandbox,
    pub(crate) pre: P,
}

/// The generated `*Pre` types, so calls can be written once for all worlds.
pub(crate) trait Prepared: Send + Sync + 'static {
    type Bindings;

    fn new(pre: InstancePre<CallState>) -> wasmtime::Result<Self>
    where
        Self: Sized;

    fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Self::Bindings>;
}

macro_rules! prepared {
    ($pre:ty, $bindings:ty) => {
        impl Prepared for $pre {
            type Bindings = $bindings;

            fn new(pre: InstancePre<CallState>) -> wasmtime::Result<Self> {
                <$pre>::new(pre)
            }

            fn instantiate(
                &self,
                store: &mut Store<CallState>,
            ) -> wasmtime::Result<Self::Bindings> {
                <$pre>::instantiate(self, store)
            }
        }
    };
}

prepared!(
    WorkloadPluginPre<CallState>,
    crate::bindings::workload::WorkloadPlugin
);
prepared!(
    TrafficPluginPre<CallState>,
    crate::bindings::traffic::TrafficPlugin
);
prepared!(
    PolicyPluginPre<CallState>,
    crate::bindings::policy::PolicyPlugin
);

impl<P: Prepared> Loaded<P> {
    /// One typed call in a fresh instance.
    pub(crate) fn call<R: Answer>(
        &self,
        services: &Arc<dyn HostServices>,
        function: &'static str,
        body: impl FnOnce(
            &P::Bindings,
            &mut Store<CallState>,
        ) -> wasmtime::Result<Result<R, PluginError>>,
    ) -> Result<R, CallError> {
        let answer = self.sandbox.run(services, function, |store| {
            let bindings = self.pre.instantiate(store)?;
            body(&bindings, store)
        })?;
        self.sandbox.accept(function, answer)
    }
}
