//! The edge module runtime: wasmtime, one compiled component, pooled
//! instances, and guards so a bad guest costs only its call.
//!
//! The edge module (WIT world `host/edge/wit/edge.wit`) holds the policy and
//! every byte of framing; [`Edge`] is how the server calls it. All calls are
//! synchronous and short (microseconds), so they run on the caller's thread,
//! tokio worker included. An `Edge` is `Send + Sync`: share one through an
//! `Arc`.
//!
//! Guards:
//! - epoch interruption bounds the wall time of each call (`deadline.rs`:
//!   one ticker thread moves the engine's epoch while calls run, and each
//!   call's store traps once the epoch passes its deadline) →
//!   [`EdgeError::Timeout`];
//! - [`StoreLimits`] and the pooling allocator cap guest memory → a trap;
//! - an empty linker: the world imports nothing, so a module that imports
//!   anything (WASI, say) fails to load.
//!
//! A guest that traps, loops or runs out of memory returns an [`EdgeError`]
//! for that call; its instance is discarded and later calls get another.
//! Instances are otherwise reused (the edge is stateless); at most
//! [`EdgeConfig::max_instances`] exist at once, and a call that finds them
//! all busy waits up to two deadlines for one to come back before it
//! returns [`EdgeError::Busy`].

use core::fmt;
use core::str::FromStr;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder, Trap,
};

mod compile;
mod deadline;

use deadline::Deadlines;

mod bindings {
    wasmtime::component::bindgen!({
        path: "edge/wit",
        world: "edge",
        additional_derives: [PartialEq, Eq, Hash],
    });
}

pub use bindings::{
    Message, Publish, Refusal, Request, ResponseHead, Settings, Subscription, Transport,
};

/// The edge module built from `host/edge` and embedded in the binary.
pub static BUILTIN_EDGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/edge.wasm"));

/// [`BUILTIN_EDGE`] compiled ahead of time by the build (`host/build.rs`).
static BUILTIN_EDGE_NATIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/edge.cwasm"));

/// Limits for edge calls, and the settings every instance is configured with.
#[derive(Clone)]
pub struct EdgeConfig {
    /// Tokens, private channels and CORS origins, given to each new instance
    /// (`configure`). Default: no tokens, same-origin only.
    pub settings: Settings,
    /// Wall time one call may take before it is stopped, rounded up to the
    /// edge's 10 ms tick; the call stops within about one more tick. Default
    /// 100 ms.
    pub deadline: Duration,
    /// Most linear memory one instance may grow to. Default 16 MiB.
    pub memory_limit: usize,
    /// Most instances alive at once (idle and in calls). Default 64.
    pub max_instances: u32,
    /// Reuse an instance across calls (`true`) or make a fresh one per call.
    /// Default `true`: the edge is stateless, and reuse saves an instantiation.
    pub reuse_instances: bool,
}

/// The settings of an edge with no tokens and no CORS origins.
pub fn open_settings() -> Settings {
    Settings {
        auth_token: None,
        jwt_secret: None,
        private_channels: Vec::new(),
        cors_origins: Vec::new(),
        cors_credentials: false,
    }
}

impl fmt::Debug for EdgeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token or the secret: configs end up in logs.
        f.debug_struct("EdgeConfig")
            .field(
                "auth_token",
                &self.settings.auth_token.as_ref().map(|_| "…"),
            )
            .field(
                "jwt_secret",
                &self.settings.jwt_secret.as_ref().map(|_| "…"),
            )
            .field("private_channels", &self.settings.private_channels)
            .field("cors_origins", &self.settings.cors_origins)
            .field("cors_credentials", &self.settings.cors_credentials)
            .field("deadline", &self.deadline)
            .field("memory_limit", &self.memory_limit)
            .field("max_instances", &self.max_instances)
            .field("reuse_instances", &self.reuse_instances)
            .finish()
    }
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            settings: open_settings(),
            deadline: Duration::from_millis(100),
            memory_limit: 16 << 20,
            max_instances: 64,
            reuse_instances: true,
        }
    }
}

/// Why an edge call or load failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EdgeError {
    /// The bytes are not a component, it imports something, or it does not
    /// export the edge world.
    #[error("the edge module cannot be loaded: {0}")]
    Load(String),
    /// The module refused its settings (`configure`): the sentence says which.
    #[error("the edge module refused its settings: {0}")]
    Settings(String),
    /// The call ran past its deadline and was stopped.
    #[error("the edge module ran past its {0:?} deadline and was stopped")]
    Timeout(Duration),
    /// The guest trapped (a panic, an out-of-bounds access, out of memory...).
    #[error("the edge module failed: {0}")]
    Trap(String),
    /// Every instance was busy for a whole deadline (more concurrent calls
    /// than [`EdgeConfig::max_instances`]).
    #[error("all {0} edge module instances stayed busy; try again shortly")]
    Busy(u32),
}

/// Counters since the edge was loaded, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EdgeStats {
    /// Calls made (each export call counts once).
    pub calls: u64,
    /// Calls that trapped (including running out of memory).
    pub traps: u64,
    /// Calls stopped at their deadline.
    pub timeouts: u64,
    /// Calls refused with [`EdgeError::Busy`].
    pub busy: u64,
    /// Nanoseconds spent inside guest calls (wasm only): what the edge costs.
    /// Guests are bounded by epoch deadlines rather than fuel (cheaper, see
    /// docs/toolchain.md, "wasmtime"), so time is the measure of their work.
    pub call_nanos: u64,
}

impl Transport {
    /// Every transport, in the order of the WIT enum (which is core's
    /// [`pushwire_core::transport::Transport::ALL`]).
    pub const ALL: [Self; 6] = {
        let listed = pushwire_core::transport::Transport::ALL;
        let mut all = [Self::Sse; 6];
        let mut at = 0;
        while at < all.len() {
            all[at] = Self::from_listed(listed[at]);
            at += 1;
        }
        all
    };

    /// The transport's name as used in `?transport=` (`sse`, `stream`, …).
    pub fn as_str(self) -> &'static str {
        pushwire_core::transport::Transport::from(self).as_str()
    }

    /// The WIT enum's value for a transport of core's list, which has the
    /// names and media types (the WIT enum is only the ABI).
    const fn from_listed(transport: pushwire_core::transport::Transport) -> Self {
        use pushwire_core::transport::Transport as Listed;
        match transport {
            Listed::Sse => Self::Sse,
            Listed::Stream => Self::Stream,
            Listed::Multipart => Self::Multipart,
            Listed::Iframe => Self::Iframe,
            Listed::LongPoll => Self::Longpoll,
            Listed::Poll => Self::Poll,
        }
    }
}

impl From<pushwire_core::transport::Transport> for Transport {
    fn from(transport: pushwire_core::transport::Transport) -> Self {
        Self::from_listed(transport)
    }
}

impl From<Transport> for pushwire_core::transport::Transport {
    fn from(transport: Transport) -> Self {
        match transport {
            Transport::Sse => Self::Sse,
            Transport::Stream => Self::Stream,
            Transport::Multipart => Self::Multipart,
            Transport::Iframe => Self::Iframe,
            Transport::Longpoll => Self::LongPoll,
            Transport::Poll => Self::Poll,
        }
    }
}

impl FromStr for Transport {
    type Err = pushwire_core::transport::UnknownTransport;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        name.parse::<pushwire_core::transport::Transport>()
            .map(Self::from)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A loaded edge module: compile once, instantiate cheaply, call with guards.
pub struct Edge {
    wasm: Wasm,
    stats: Counters,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    traps: AtomicU64,
    timeouts: AtomicU64,
    busy: AtomicU64,
    call_nanos: AtomicU64,
}

impl fmt::Debug for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Edge")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Edge {
    /// Load the built-in edge module (`host/edge`, embedded at build time).
    ///
    /// # Errors
    /// [`EdgeError::Load`] if the engine cannot be set up.
    pub fn builtin(config: EdgeConfig) -> Result<Self, EdgeError> {
        Ok(Self {
            wasm: Wasm::load(BUILTIN_EDGE, Some(BUILTIN_EDGE_NATIVE), config)?,
            stats: Counters::default(),
        })
    }

    /// Compile `wasm` (a component binary) and check it against the edge world.
    ///
    /// # Errors
    /// [`EdgeError::Load`] if `wasm` is not a component, imports anything, or
    /// lacks an export of the edge world.
    pub fn from_bytes(wasm: &[u8], config: EdgeConfig) -> Result<Self, EdgeError> {
        Ok(Self {
            wasm: Wasm::load(wasm, None, config)?,
            stats: Counters::default(),
        })
    }

    /// The same as [`Edge::from_bytes`].
    ///
    /// # Errors
    /// See [`Edge::from_bytes`].
    pub fn new(wasm: &[u8], config: EdgeConfig) -> Result<Self, EdgeError> {
        Self::from_bytes(wasm, config)
    }

    /// Read and load a component file (`pushwire serve --edge FILE.wasm`).
    ///
    /// # Errors
    /// [`EdgeError::Load`] if the file cannot be read, or as [`Edge::from_bytes`].
    pub fn from_file(path: &Path, config: EdgeConfig) -> Result<Self, EdgeError> {
        let wasm = std::fs::read(path)
            .map_err(|err| EdgeError::Load(format!("cannot read {}: {err}", path.display())))?;
        Self::from_bytes(&wasm, config)
    }

    /// Ask the edge about a request's origin: the CORS headers for its
    /// response (for `OPTIONS`, the whole preflight answer), or a refusal.
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy; a
    /// [`Refusal`] inside `Ok` is the edge's answer to the client.
    #[allow(clippy::type_complexity, reason = "the WIT result, as the other calls")]
    pub fn cors(&self, req: &Request) -> Result<Result<Vec<(String, String)>, Refusal>, EdgeError> {
        self.call(|edge, store| edge.call_cors(store, req))
    }

    /// Ask the edge what a subscribe request gets.
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy; a
    /// [`Refusal`] inside `Ok` is the edge's answer to the client.
    pub fn route(&self, req: &Request) -> Result<Result<Subscription, Refusal>, EdgeError> {
        self.call(|edge, store| edge.call_route(store, req))
    }

    /// The status, headers and preamble for an allowed subscription.
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy.
    pub fn open(&self, sub: &Subscription) -> Result<ResponseHead, EdgeError> {
        self.call(|edge, store| edge.call_open(store, sub))
    }

    /// Frame `msg` for a streaming `transport`: these bytes go to every
    /// subscriber of it. `Ok(Err(reason))` says why this message cannot
    /// travel on this transport (skip it there and log the reason).
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy.
    pub fn frame(
        &self,
        transport: Transport,
        msg: &Message,
    ) -> Result<Result<Vec<u8>, String>, EdgeError> {
        self.call(|edge, store| edge.call_frame(store, transport, msg))
    }

    /// The whole body of a long-poll or poll reply: `msgs` and the `cursor`
    /// the next request carries.
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy.
    pub fn frame_reply(
        &self,
        transport: Transport,
        cursor: &str,
        msgs: &[Message],
    ) -> Result<Result<Vec<u8>, String>, EdgeError> {
        self.call(|edge, store| edge.call_frame_reply(store, transport, cursor, msgs))
    }

    /// The bytes that keep an idle `transport` connection alive (may be
    /// empty): a constant, which the framer asks for once.
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy.
    pub fn heartbeat(&self, transport: Transport) -> Result<Vec<u8>, EdgeError> {
        self.call(|edge, store| edge.call_heartbeat(store, transport))
    }

    /// The bytes that end a `transport` stream in order (may be empty),
    /// written before the host closes it: a constant, which the framer asks
    /// for once.
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy.
    pub fn end(&self, transport: Transport) -> Result<Vec<u8>, EdgeError> {
        self.call(|edge, store| edge.call_end(store, transport))
    }

    /// Ask the edge whether a publish request may go ahead; `body_len` is
    /// the body's size in bytes (as declared, or as read).
    ///
    /// # Errors
    /// [`EdgeError`] if the guest trapped, ran out of time or was busy; a
    /// [`Refusal`] inside `Ok` is the edge's answer to the client.
    pub fn accept_publish(
        &self,
        req: &Request,
        body_len: u64,
    ) -> Result<Result<Publish, Refusal>, EdgeError> {
        self.call(|edge, store| edge.call_accept_publish(store, req, body_len))
    }

    /// Counters since load: calls, traps, timeouts, busy refusals.
    pub fn stats(&self) -> EdgeStats {
        EdgeStats {
            calls: self.stats.calls.load(Ordering::Relaxed),
            traps: self.stats.traps.load(Ordering::Relaxed),
            timeouts: self.stats.timeouts.load(Ordering::Relaxed),
            busy: self.stats.busy.load(Ordering::Relaxed),
            call_nanos: self.stats.call_nanos.load(Ordering::Relaxed),
        }
    }

    /// Whether the module was loaded from its ahead-of-time compile (the
    /// built-in edge) rather than compiled at load.
    pub fn precompiled(&self) -> bool {
        self.wasm.precompiled
    }

    /// The names of what the component imports (empty for a valid edge
    /// module).
    pub fn imports(&self) -> Vec<String> {
        self.wasm
            .component
            .component_type()
            .imports(&self.wasm.engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// Run `f` on an instance under the deadline; count and classify failures.
    fn call<R>(
        &self,
        f: impl FnOnce(&bindings::Edge, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, EdgeError> {
        let wasm = &self.wasm;
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        // From before the checkout: a new instance runs guest code too.
        let _running = wasm.deadlines.run();
        let mut instance = match wasm.checkout() {
            Ok(instance) => instance,
            Err(err) => return Err(self.count_failure(err)),
        };
        wasm.deadlines.arm(&mut instance.store);
        let started = Instant::now();
        let result = f(&instance.edge, &mut instance.store);
        let spent = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.call_nanos.fetch_add(spent, Ordering::Relaxed);
        match result {
            Ok(value) => {
                wasm.checkin(instance);
                Ok(value)
            }
            Err(err) => {
                // After a trap an instance cannot be entered again.
                wasm.discard(instance);
                Err(self.count_failure(wasm.classify(&err)))
            }
        }
    }

    fn count_failure(&self, err: EdgeError) -> EdgeError {
        let counter = match err {
            EdgeError::Timeout(_) => &self.stats.timeouts,
            EdgeError::Busy(_) => &self.stats.busy,
            EdgeError::Trap(_) | EdgeError::Load(_) | EdgeError::Settings(_) => &self.stats.traps,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        err
    }
}

/// Host state of one store: only the limits.
struct HostState {
    limits: StoreLimits,
}

/// One live instance and its store.
struct Instance {
    store: Store<HostState>,
    edge: bindings::Edge,
}

/// Idle instances, how many exist (idle or in a call), and how many calls
/// wait for one.
struct Pool {
    idle: Vec<Instance>,
    live: u32,
    waiting: u32,
}

/// A compiled component and its instance pool.
struct Wasm {
    engine: Engine,
    component: Component,
    /// Loaded from its ahead-of-time compile, not compiled at load.
    precompiled: bool,
    pre: bindings::EdgePre<HostState>,
    config: EdgeConfig,
    deadlines: Deadlines,
    pool: Mutex<Pool>,
    /// Signalled when an instance goes back to the pool or is dropped while
    /// a call waits (only then: a notify is a syscall on every call otherwise).
    returned: Condvar,
}

impl Wasm {
    /// Load `wasm`, from its ahead-of-time compile `native` when there is one
    /// that fits this engine (else compiled now).
    fn load(wasm: &[u8], native: Option<&[u8]>, config: EdgeConfig) -> Result<Self, EdgeError> {
        let load = |err: wasmtime::Error| EdgeError::Load(format!("{err:#}"));
        let max = config.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        // Per store: at most 4 core instances, 4 tables, 2 memories (see `instantiate`).
        pool.total_component_instances(max)
            .total_core_instances(max.saturating_mul(4))
            .total_memories(max.saturating_mul(2))
            .total_tables(max.saturating_mul(4))
            .max_memory_size(config.memory_limit);
        let mut wasm_config = Config::new();
        compile::compile_settings(&mut wasm_config)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm_config).map_err(load)?;
        let precompiled = native.and_then(|native| {
            // SAFETY: `native` is `BUILTIN_EDGE_NATIVE`, what this binary's own
            // build made of `BUILTIN_EDGE` with `Engine::precompile_component`
            // (host/build.rs) and embedded; nobody else can supply it. wasmtime
            // checks that its version and compile settings match this engine's
            // and returns an error, not undefined behaviour, when they do not;
            // the module is then compiled from `wasm`. Why: compiling the edge
            // was most of a start's CPU time (BENCHMARKS.md, long-poll, whole
            // life); the `builtin_edge_loads_ahead_of_time_compiled` test
            // checks this path is taken.
            #[allow(unsafe_code, reason = "the build's own precompiled edge; see SAFETY")]
            let loaded = unsafe { Component::deserialize(&engine, native) };
            loaded
                .inspect_err(|err| {
                    tracing::warn!(
                        "the precompiled edge does not fit this engine, compiling it: {err:#}"
                    );
                })
                .ok()
        });
        let is_precompiled = precompiled.is_some();
        let component = match precompiled {
            Some(component) => component,
            None => Component::new(&engine, wasm).map_err(load)?,
        };
        // The edge world imports nothing: an empty linker is the whole sandbox,
        // and a component that imports anything fails here.
        let linker = Linker::<HostState>::new(&engine);
        let pre = linker.instantiate_pre(&component).map_err(load)?;
        let pre = bindings::EdgePre::new(pre).map_err(load)?;
        let deadlines = Deadlines::new(&engine, config.deadline)
            .map_err(|err| EdgeError::Load(format!("cannot set up the edge's deadlines: {err}")))?;
        let config = EdgeConfig {
            max_instances: max,
            ..config
        };
        let edge = Self {
            engine,
            component,
            precompiled: is_precompiled,
            pre,
            config,
            deadlines,
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                live: 0,
                waiting: 0,
            }),
            returned: Condvar::new(),
        };
        // Instantiate one now: a module whose start traps fails at load, not
        // at the first request.
        let running = edge.deadlines.run();
        let first = edge.checkout()?;
        edge.checkin(first);
        drop(running);
        Ok(edge)
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle instance, or a new one if fewer than the cap exist, or wait
    /// up to two deadlines for one to come back.
    fn checkout(&self) -> Result<Instance, EdgeError> {
        // Any call holding an instance ends within its deadline and two
        // ticks; waiting twice that leaves room before a caller is told the
        // edge is busy.
        let give_up = Instant::now() + (self.config.deadline + deadline::TICK * 2) * 2;
        let mut pool = self.lock();
        loop {
            if self.config.reuse_instances
                && let Some(instance) = pool.idle.pop()
            {
                return Ok(instance);
            }
            if pool.live < self.config.max_instances {
                pool.live += 1;
                drop(pool);
                return self.instantiate().inspect_err(|_| self.release_slot());
            }
            let now = Instant::now();
            if now >= give_up {
                return Err(EdgeError::Busy(self.config.max_instances));
            }
            pool.waiting += 1;
            // Woken when an instance comes back, or at the give-up time.
            pool = self
                .returned
                .wait_timeout(pool, give_up - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            pool.waiting -= 1;
        }
    }

    fn checkin(&self, instance: Instance) {
        if self.config.reuse_instances {
            let mut pool = self.lock();
            pool.idle.push(instance);
            let waiting = pool.waiting > 0;
            drop(pool);
            if waiting {
                self.returned.notify_one();
            }
        } else {
            self.discard(instance);
        }
    }

    fn discard(&self, instance: Instance) {
        // Dropped outside the lock; its pool slot is free once it is dropped.
        drop(instance);
        self.release_slot();
    }

    fn release_slot(&self) {
        let mut pool = self.lock();
        pool.live = pool.live.saturating_sub(1);
        let waiting = pool.waiting > 0;
        drop(pool);
        if waiting {
            self.returned.notify_one();
        }
    }

    fn instantiate(&self) -> Result<Instance, EdgeError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.config.memory_limit)
            .instances(4)
            .tables(4)
            .memories(2)
            .build();
        let mut store = Store::new(&self.engine, HostState { limits });
        store.limiter(|state| &mut state.limits);
        self.deadlines.prepare(&mut store);
        let edge = self
            .pre
            .instantiate(&mut store)
            .map_err(|err| self.classify(&err))?;
        edge.call_configure(&mut store, &self.config.settings)
            .map_err(|err| self.classify(&err))?
            .map_err(EdgeError::Settings)?;
        Ok(Instance { store, edge })
    }

    fn classify(&self, err: &wasmtime::Error) -> EdgeError {
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => EdgeError::Timeout(self.config.deadline),
            _ => EdgeError::Trap(format!("{err:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_names_round_trip() {
        for transport in Transport::ALL {
            assert_eq!(transport.as_str().parse(), Ok(transport));
            assert_eq!(transport.to_string(), transport.as_str());
            assert_eq!(Transport::ALL.get(transport as usize), Some(&transport));
        }
        assert_eq!("SSE".parse::<Transport>().unwrap_err().name(), "SSE");
    }

    #[test]
    fn edge_is_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Edge>();
    }
}
