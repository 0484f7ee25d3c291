//! What stops a guest call at its deadline: wasmtime's epoch interruption,
//! and what moves the epoch.
//!
//! Guest code checks the engine's epoch at function entries and loop heads;
//! a store whose epoch deadline has passed asks its callback (or traps).
//! Something outside the looping guest must move the epoch.
//!
//! On Linux each thread that calls a guest has a CPU-time timer
//! (`timer_create` on `CLOCK_THREAD_CPUTIME_ID`) that signals the thread
//! itself every [`LOOK`] of CPU time it spends, in a call or not. The signal
//! handler looks at the call in progress on that thread: once the call has
//! run past its deadline it marks the call expired and moves the epoch; the
//! store's callback then stops that call and lets every other one go on.
//! A call costs no syscall and wakes no thread (a clock thread woken per
//! burst of calls cost 75–90 µs of CPU per long-poll publish, BENCHMARKS.md),
//! an idle thread gets no signal (its CPU clock stands still), and the
//! deadline is CPU time of the calling thread, as [`super::EdgeConfig`]
//! says: a call descheduled on a loaded machine is not cut short.
//!
//! The signal is real-time signal `SIGRTMIN + 7` (41 with glibc); under gdb,
//! `handle SIG41 nostop noprint` keeps it from stopping the program.
//!
//! Elsewhere a clock thread moves the epoch every [`LOOK`] while a call
//! runs and parks while none does.

use core::time::Duration;

/// How often the clock is looked at; a deadline is rounded up to it.
pub(super) const LOOK: Duration = Duration::from_millis(5);

#[cfg(target_os = "linux")]
pub(super) use cpu_timer::Deadlines;
#[cfg(not(target_os = "linux"))]
pub(super) use ticker::Deadlines;

#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "POSIX timers and a signal handler, through libc"
)]
mod cpu_timer {
    use core::cell::OnceCell;
    use core::marker::PhantomData;
    use core::ptr;
    use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering::SeqCst};
    use core::time::Duration;
    use std::io;
    use std::sync::OnceLock;

    use wasmtime::{Engine, Store, UpdateDeadline};

    use super::LOOK;

    /// The deadline every call of one edge gets.
    pub(in crate::edge) struct Deadlines {
        deadline: Duration,
    }

    impl Deadlines {
        pub(in crate::edge) fn new(_engine: &Engine, deadline: Duration) -> io::Result<Self> {
            signal_handler()?;
            Ok(Self { deadline })
        }

        /// Set up a new store: its deadline passes whenever the epoch moves,
        /// and only the expired call on this thread stops there.
        pub(in crate::edge) fn prepare<T>(&self, store: &mut Store<T>) {
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(|_| {
                Ok(if CALL.with(Call::expired) {
                    UpdateDeadline::Interrupt
                } else {
                    UpdateDeadline::Continue(1)
                })
            });
        }

        /// Before a call enters `store`: nothing to do, the deadline follows
        /// the epoch by itself.
        pub(in crate::edge) fn arm<T>(&self, _store: &mut Store<T>) {}

        /// Time guest code run on this thread, against `engine`'s epoch,
        /// until the guard drops.
        ///
        /// # Errors
        /// If this thread's timer cannot be made (the first call only).
        pub(in crate::edge) fn watch<'a>(&self, engine: &'a Engine) -> io::Result<Watch<'a>> {
            TIMER.with(|timer| match timer.get_or_init(Timer::start) {
                Ok(_) => Ok(()),
                Err(errno) => Err(io::Error::from_raw_os_error(*errno)),
            })?;
            CALL.with(|call| call.start(engine, self.deadline));
            Ok(Watch {
                _engine: PhantomData,
                _thread: PhantomData,
            })
        }
    }

    /// A call being timed on this thread; ends on drop.
    pub(in crate::edge) struct Watch<'a> {
        _engine: PhantomData<&'a Engine>,
        /// The watch belongs to the thread whose timer it reads.
        _thread: PhantomData<*const ()>,
    }

    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            CALL.with(Call::end);
        }
    }

    thread_local! {
        /// The call in progress on this thread, as its signal handler sees
        /// it: atomics without a destructor, so the handler may touch them.
        static CALL: Call = const { Call::idle() };
        /// This thread's timer, made at its first call, deleted when the
        /// thread ends (or the `errno` it could not be made with).
        static TIMER: OnceCell<Result<Timer, i32>> = const { OnceCell::new() };
    }

    struct Call {
        /// The engine of the call in progress; null between calls.
        engine: AtomicPtr<Engine>,
        /// CPU time the call may take, in nanoseconds.
        budget: AtomicU64,
        /// The thread's CPU clock at the call's first look (0: none yet).
        /// The time before it is not counted: a call is stopped no earlier
        /// than its deadline, and at most one look later.
        first_look: AtomicU64,
        expired: AtomicBool,
    }

    impl Call {
        const fn idle() -> Self {
            Self {
                engine: AtomicPtr::new(ptr::null_mut()),
                budget: AtomicU64::new(0),
                first_look: AtomicU64::new(0),
                expired: AtomicBool::new(false),
            }
        }

        fn start(&self, engine: &Engine, deadline: Duration) {
            debug_assert!(self.engine.load(SeqCst).is_null(), "nested guest calls");
            self.budget.store(
                u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX),
                SeqCst,
            );
            self.first_look.store(0, SeqCst);
            self.expired.store(false, SeqCst);
            // Last: the handler reads the others only once it sees the engine.
            self.engine.store(ptr::from_ref(engine).cast_mut(), SeqCst);
        }

        fn end(&self) {
            self.engine.store(ptr::null_mut(), SeqCst);
        }

        fn expired(&self) -> bool {
            self.expired.load(SeqCst)
        }

        /// The signal handler's look: expire the call once it has spent its budget.
        fn look(&self) {
            let engine = self.engine.load(SeqCst);
            if engine.is_null() || self.expired.load(SeqCst) {
                return;
            }
            let now = thread_cpu_nanos().max(1);
            let first = self.first_look.load(SeqCst);
            if first == 0 {
                self.first_look.store(now, SeqCst);
            } else if now.saturating_sub(first) >= self.budget.load(SeqCst) {
                self.expired.store(true, SeqCst);
                // SAFETY: `engine` was stored from a reference that outlives
                // the `Watch` (its lifetime), and is cleared when the watch
                // drops; the handler runs on this thread, inside that span.
                // `increment_epoch` is one atomic add: async-signal-safe.
                unsafe { &*engine }.increment_epoch();
            }
        }
    }

    /// The signal the timers send: a real-time one, which nothing else in
    /// the process uses (wasmtime handles SIGSEGV, SIGBUS, SIGILL, SIGFPE).
    fn look_signal() -> libc::c_int {
        libc::SIGRTMIN() + 7
    }

    /// Install the handler once per process.
    fn signal_handler() -> io::Result<()> {
        static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();
        let installed = INSTALLED.get_or_init(|| {
            // SAFETY: a zeroed `sigaction` is a valid empty one; the handler
            // only touches this thread's atomics and calls `clock_gettime`,
            // both async-signal-safe, and keeps `errno`.
            unsafe {
                let mut action: libc::sigaction = core::mem::zeroed();
                action.sa_sigaction = on_look as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
                libc::sigemptyset(&raw mut action.sa_mask);
                if libc::sigaction(look_signal(), &raw const action, ptr::null_mut()) == 0 {
                    Ok(())
                } else {
                    Err(errno())
                }
            }
        });
        installed.map_err(io::Error::from_raw_os_error)
    }

    extern "C" fn on_look(_signal: libc::c_int) {
        // SAFETY: `__errno_location` is this thread's `errno`; restoring it
        // keeps the interrupted code's view.
        let saved = unsafe { *libc::__errno_location() };
        CALL.with(Call::look);
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = saved };
    }

    fn thread_cpu_nanos() -> u64 {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid `timespec` to write; the clock always exists.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut now) };
        u64::try_from(now.tv_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(now.tv_nsec).unwrap_or(0))
    }

    fn errno() -> i32 {
        io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    /// A CPU-time timer that signals its thread every [`LOOK`] of CPU time.
    struct Timer(libc::timer_t);

    impl Timer {
        fn start() -> Result<Self, i32> {
            signal_handler().map_err(|err| err.raw_os_error().unwrap_or(0))?;
            let look = libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::c_long::try_from(LOOK.as_nanos()).unwrap_or(5_000_000),
            };
            let every = libc::itimerspec {
                it_interval: look,
                it_value: look,
            };
            // SAFETY: a zeroed `sigevent` is valid once its fields are set;
            // the timer id is written by `timer_create` before it is used,
            // and deleted by `Drop` only.
            unsafe {
                let mut event: libc::sigevent = core::mem::zeroed();
                event.sigev_notify = libc::SIGEV_THREAD_ID;
                event.sigev_signo = look_signal();
                event.sigev_notify_thread_id = libc::gettid();
                let mut id: libc::timer_t = ptr::null_mut();
                if libc::timer_create(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut event, &raw mut id)
                    != 0
                {
                    return Err(errno());
                }
                let timer = Self(id);
                if libc::timer_settime(id, 0, &raw const every, ptr::null_mut()) != 0 {
                    return Err(errno());
                }
                Ok(timer)
            }
        }
    }

    impl Drop for Timer {
        fn drop(&mut self) {
            // SAFETY: the id came from `timer_create` and is deleted once.
            unsafe { libc::timer_delete(self.0) };
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_thread_that_spins_in_a_call_past_its_deadline_sees_it_expire() {
            let engine = Engine::default();
            let deadlines = Deadlines::new(&engine, Duration::from_millis(20)).unwrap();
            let watch = deadlines.watch(&engine).unwrap();
            let bound = std::time::Instant::now() + Duration::from_secs(10);
            while !CALL.with(Call::expired) {
                assert!(std::time::Instant::now() < bound, "the call never expired");
                core::hint::spin_loop();
            }
            let spent = thread_cpu_nanos() - CALL.with(|call| call.first_look.load(SeqCst));
            assert!(spent >= 20_000_000, "expired after {spent} ns of CPU");
            drop(watch);
            // A new call starts with a fresh budget.
            let _watch = deadlines.watch(&engine).unwrap();
            assert!(!CALL.with(Call::expired));
        }

        #[test]
        fn cpu_time_outside_a_call_expires_nothing() {
            let engine = Engine::default();
            let deadlines = Deadlines::new(&engine, Duration::from_millis(1)).unwrap();
            drop(deadlines.watch(&engine).unwrap());
            let start = thread_cpu_nanos();
            while thread_cpu_nanos() - start < 50_000_000 {
                core::hint::spin_loop();
            }
            assert!(!CALL.with(Call::expired));
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod ticker {
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use core::time::Duration;
    use std::io;
    use std::thread::JoinHandle;

    use wasmtime::{Engine, Store};

    use super::LOOK;

    /// A clock thread and the number of ticks a call may take.
    pub(in crate::edge) struct Deadlines {
        ticker: Ticker,
        ticks: u64,
    }

    impl Deadlines {
        pub(in crate::edge) fn new(engine: &Engine, deadline: Duration) -> io::Result<Self> {
            let ticks = u64::try_from(deadline.as_nanos().div_ceil(LOOK.as_nanos()))
                .unwrap_or(u64::MAX)
                .max(1);
            Ok(Self {
                ticker: Ticker::start(engine.clone(), LOOK)?,
                ticks,
            })
        }

        pub(in crate::edge) fn prepare<T>(&self, store: &mut Store<T>) {
            self.arm(store);
        }

        /// Before a call enters `store`: its deadline, counted from now.
        pub(in crate::edge) fn arm<T>(&self, store: &mut Store<T>) {
            store.set_epoch_deadline(self.ticks);
        }

        pub(in crate::edge) fn watch<'a>(&'a self, _engine: &'a Engine) -> io::Result<Running<'a>> {
            Ok(self.ticker.run())
        }
    }

    /// Bumps the engine's epoch every tick while guest code may run; parks
    /// at a tick when no call runs, and the next call wakes it (a deadline
    /// is counted from the epoch at the call's start, so a parked clock
    /// shortens no call). Stops and joins on drop.
    struct Ticker {
        shared: Arc<TickerShared>,
        thread: Option<JoinHandle<()>>,
    }

    #[derive(Default)]
    struct TickerShared {
        stop: AtomicBool,
        /// Calls in progress.
        running: AtomicU64,
        /// The thread is parked, or about to: a new call must unpark it.
        parked: AtomicBool,
    }

    /// One call in progress; ends on drop.
    pub(in crate::edge) struct Running<'a>(&'a Ticker);

    impl Drop for Running<'_> {
        fn drop(&mut self) {
            self.0.shared.running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Ticker {
        fn start(engine: Engine, tick: Duration) -> io::Result<Self> {
            let shared = Arc::new(TickerShared::default());
            let state = Arc::clone(&shared);
            let thread = std::thread::Builder::new()
                .name("pushwire-epoch".into())
                .spawn(move || {
                    while !state.stop.load(Ordering::SeqCst) {
                        // The clock itself: deadlines are counted in its ticks.
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                        if state.running.load(Ordering::SeqCst) > 0 {
                            continue;
                        }
                        // Announce the park before the last look at `running`:
                        // a call that starts after that look sees `parked` and
                        // unparks (an unpark before the park makes it return).
                        state.parked.store(true, Ordering::SeqCst);
                        if state.running.load(Ordering::SeqCst) == 0
                            && !state.stop.load(Ordering::SeqCst)
                        {
                            std::thread::park();
                        }
                        state.parked.store(false, Ordering::SeqCst);
                    }
                })?;
            Ok(Self {
                shared,
                thread: Some(thread),
            })
        }

        fn run(&self) -> Running<'_> {
            self.shared.running.fetch_add(1, Ordering::SeqCst);
            if self.shared.parked.load(Ordering::SeqCst) {
                self.unpark();
            }
            Running(self)
        }

        fn unpark(&self) {
            if let Some(thread) = &self.thread {
                thread.thread().unpark();
            }
        }
    }

    impl Drop for Ticker {
        fn drop(&mut self) {
            self.shared.stop.store(true, Ordering::SeqCst);
            self.unpark();
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}
