//! What stops a guest call at its deadline: wasmtime's epoch interruption,
//! and one ticker thread that moves the epoch.
//!
//! Guest code checks the engine's epoch at function entries and loop heads.
//! Before each call its store's deadline is set a fixed number of ticks past
//! the current epoch ([`Deadlines::arm`]); once the epoch reaches it, the
//! call traps with `Trap::Interrupt`, which the edge reports as
//! [`super::EdgeError::Timeout`]. Every store has its own deadline, so the
//! call that overruns is the only one stopped.
//!
//! The ticker is a plain thread that moves the epoch every [`TICK`] while
//! any call runs and parks while none does, so an idle server wakes no core;
//! the first call after a pause wakes it. A parked ticker shortens no call:
//! a deadline counts ticks from the epoch at the call's start. The thread
//! stops when its [`Deadlines`] drops.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::io;
use std::thread::JoinHandle;

use wasmtime::{Engine, Store};

/// How often the epoch moves while calls run; a deadline is rounded up to it.
pub(super) const TICK: Duration = Duration::from_millis(10);

/// The ticker of one edge and the ticks each call may take.
pub(super) struct Deadlines {
    ticks: u64,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    /// Calls in progress: the ticker runs while this is above zero.
    running: AtomicU64,
    stop: AtomicBool,
}

impl Deadlines {
    /// Start the ticker of `engine` for calls that may take `deadline`.
    ///
    /// # Errors
    /// If the thread cannot be started.
    pub(super) fn new(engine: &Engine, deadline: Duration) -> io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let state = Arc::clone(&shared);
        let engine = engine.clone();
        let thread = std::thread::Builder::new()
            .name("pushwire-epoch".into())
            .spawn(move || {
                while !state.stop.load(Ordering::SeqCst) {
                    if state.running.load(Ordering::SeqCst) == 0 {
                        // A call that starts after the look above unparks us
                        // (an unpark before the park makes it return at once).
                        std::thread::park();
                        continue;
                    }
                    // The ticker is this sleep: one epoch per tick while
                    // calls run (the deadline counts ticks).
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            ticks: ticks(deadline),
            shared,
            thread: Some(thread),
        })
    }

    /// Set up a new store: it traps at its deadline, counted from now.
    pub(super) fn prepare<T>(&self, store: &mut Store<T>) {
        store.epoch_deadline_trap();
        self.arm(store);
    }

    /// Before a call enters `store`: its deadline, counted from now.
    pub(super) fn arm<T>(&self, store: &mut Store<T>) {
        store.set_epoch_deadline(self.ticks);
    }

    /// Keep the ticker running until the guard drops; hold it across every
    /// call into a guest (instantiation included).
    pub(super) fn run(&self) -> Running<'_> {
        if self.shared.running.fetch_add(1, Ordering::SeqCst) == 0
            && let Some(thread) = &self.thread
        {
            thread.thread().unpark();
        }
        Running(self)
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // The thread only sleeps, parks and moves an atomic: it cannot panic.
            let _ = thread.join();
        }
    }
}

/// One call in progress; ends on drop.
pub(super) struct Running<'a>(&'a Deadlines);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.shared.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The epoch ticks a call may take: `deadline` rounded up to the tick, plus
/// one, because the first tick may come at once after the call starts. A
/// call is stopped no sooner than its deadline and within about one tick
/// after it is rounded up. At most [`MAX_TICKS`]: wasmtime adds the ticks to
/// the current epoch unchecked.
fn ticks(deadline: Duration) -> u64 {
    u64::try_from(deadline.as_nanos().div_ceil(TICK.as_nanos()))
        .unwrap_or(u64::MAX)
        .saturating_add(1)
        .min(MAX_TICKS)
}

/// The longest deadline in ticks: over a year of them.
const MAX_TICKS: u64 = u32::MAX as u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_rounded_up_to_the_tick_with_one_to_spare() {
        assert_eq!(ticks(Duration::ZERO), 1);
        assert_eq!(ticks(Duration::from_nanos(1)), 2);
        assert_eq!(ticks(TICK), 2);
        assert_eq!(ticks(TICK * 10), 11);
        assert_eq!(ticks(TICK * 10 + Duration::from_nanos(1)), 12);
        assert_eq!(ticks(Duration::MAX), MAX_TICKS);
    }

    #[test]
    fn the_ticker_stops_when_its_deadlines_drop() {
        let engine = Engine::default();
        let deadlines = Deadlines::new(&engine, TICK).unwrap();
        let running = deadlines.run();
        drop(running);
        let thread = deadlines.thread.as_ref().unwrap().thread().clone();
        assert_eq!(thread.name(), Some("pushwire-epoch"));
        // Joins the thread: a ticker that never stopped would hang here.
        drop(deadlines);
    }
}
