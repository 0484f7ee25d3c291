//! What a `no_std` component needs from its crate: an allocator, a panic
//! handler and `cabi_realloc` (on `wasm32-wasip2` neither std nor wit-bindgen
//! provides it to a `no_std` crate).
//!
//! This module is all the `unsafe` an edge guest has: shared by
//! `pushwire-edge`, the example and the test guest through `#[path]`.
#![allow(unsafe_code, reason = "the component ABI glue is FFI by nature")]

use core::alloc::{GlobalAlloc, Layout};

// On wasm32-wasip2, compiler-builtins leaves `memcmp`/`bcmp` (and friends) to
// wasi-libc, which a `no_std` crate does not link: without this they become
// `env::memcmp` imports and the component encoder rejects the module. Only
// the few mem* functions are pulled in (wasm-ld drops the rest), so the
// component still imports nothing.
#[link(name = "c")]
unsafe extern "C" {}

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocator: the host calls it to place arguments in
/// guest memory.
///
/// # Safety
/// Called by the component runtime only, with the canonical ABI's contract:
/// `old_ptr`/`old_len`/`align` describe a live allocation (or `old_len == 0`).
#[unsafe(no_mangle)]
unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    if new_len == 0 {
        return align as *mut u8;
    }
    // SAFETY: the canonical ABI passes a power-of-two `align` and sizes that
    // fit in memory; `old_ptr` was returned by this function with that layout.
    let ptr = unsafe {
        if old_len == 0 {
            ALLOCATOR.alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            ALLOCATOR.realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        core::arch::wasm32::unreachable();
    }
    ptr
}
