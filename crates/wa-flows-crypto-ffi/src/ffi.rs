//! The boundary machinery: the panic guard, the last error, and the checked conversions of the
//! caller's pointers into references.

use std::borrow::Cow;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::wfc_status;

/// Why an entry point failed: the status it returns and the message kept for
/// `wfc_last_error_message`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: wfc_status,
    pub(crate) message: Cow<'static, str>,
}

impl Failure {
    pub(crate) fn null(name: &'static str) -> Failure {
        Failure {
            status: wfc_status::NullParameter,
            message: Cow::Owned(format!(
                "the parameter `{name}` is NULL (or NULL with a non-zero length)"
            )),
        }
    }

    pub(crate) fn buffer_too_small(needed: usize, cap: usize) -> Failure {
        Failure {
            status: wfc_status::BufferTooSmall,
            message: Cow::Owned(format!(
                "the output buffer holds {cap} bytes but {needed} are needed; *out_len holds the \
                 length needed"
            )),
        }
    }

    pub(crate) fn malformed(message: &'static str) -> Failure {
        Failure {
            status: wfc_status::Malformed,
            message: Cow::Borrowed(message),
        }
    }
}

impl From<wa_flows_crypto::Error> for Failure {
    fn from(error: wa_flows_crypto::Error) -> Failure {
        Failure {
            status: wfc_status::from_kind(error.kind()),
            message: Cow::Owned(error.to_string()),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(message: &str) {
    // `try_with`: during thread teardown the slot may be gone; the status still gets through.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            slot.clear();
            slot.push_str(message);
        }
    });
}

pub(crate) fn with_last_error<T>(read: impl FnOnce(&str) -> T) -> T {
    let message = LAST_ERROR
        .try_with(|slot| slot.try_borrow().map(|m| m.clone()).unwrap_or_default())
        .unwrap_or_default();
    read(&message)
}

const PANIC_MESSAGE: &str = "a panic occurred inside wa-flows-crypto: this is a bug, please report \
                             it; the call had no effect on its outputs";

/// Runs the body of an entry point that returns a status: catches panics, records the message
/// of a failure for `wfc_last_error_message`.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> wfc_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => wfc_status::Ok,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(_) => {
            set_last_error(PANIC_MESSAGE);
            wfc_status::Panic
        }
    }
}

/// Runs the body of an entry point that returns a value (size helpers, accessors, `_free`):
/// catches panics and returns `fallback` then.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        set_last_error(PANIC_MESSAGE);
        fallback
    })
}

/// An input `(ptr, len)`: NULL is allowed only with `len == 0`.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`, and not written meanwhile.
pub(crate) unsafe fn input<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(name))
        };
    }
    if len > isize::MAX as usize {
        return Err(Failure::malformed(
            "an input length is larger than isize::MAX",
        ));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes (header conventions).
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// One input in an array of inputs (several app secrets, say): `data` may be NULL only if
/// `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct wfc_bytes {
    /// The first byte.
    pub data: *const u8,
    /// How many bytes.
    pub len: usize,
}

/// An input array `(items, count)` of [`wfc_bytes`]: NULL is allowed only with `count == 0`.
///
/// # Safety
/// `items` is NULL or valid for reads of `count` `wfc_bytes`, each of which follows the
/// contract of [`input`], for `'a`.
pub(crate) unsafe fn inputs<'a>(
    items: *const wfc_bytes,
    count: usize,
    name: &'static str,
) -> Result<Vec<&'a [u8]>, Failure> {
    if items.is_null() {
        return if count == 0 {
            Ok(Vec::new())
        } else {
            Err(Failure::null(name))
        };
    }
    if count > isize::MAX as usize / core::mem::size_of::<wfc_bytes>() {
        return Err(Failure::malformed("an array length is too large"));
    }
    // SAFETY: non-NULL, and the caller guarantees `count` readable items (header conventions).
    let items = unsafe { core::slice::from_raw_parts(items, count) };
    items
        .iter()
        // SAFETY: each item follows the contract of `input` (header conventions).
        .map(|item| unsafe { input(item.data, item.len, name) })
        .collect()
}

/// An optional input: NULL means absent (whatever the length).
///
/// # Safety
/// As [`input`].
pub(crate) unsafe fn optional_input<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> Result<Option<&'a [u8]>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { input(ptr, len, name) }.map(Some)
    }
}

/// A caller's handle, which must not be NULL.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` created by this library.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &'static str) -> Result<&'a T, Failure> {
    // SAFETY: the caller passes NULL or a pointer this library returned from `Box::into_raw`
    // and has not freed yet.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A caller's mutable handle, which must not be NULL.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` created by this library, used by one thread.
pub(crate) unsafe fn handle_mut<'a, T>(
    ptr: *mut T,
    name: &'static str,
) -> Result<&'a mut T, Failure> {
    // SAFETY: as `handle`; the header says mutable handles are used by one thread at a time.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// Where a new handle goes: `T **out`, which must not be NULL.
pub(crate) struct HandleOut<'a, T>(&'a mut *mut T);

impl<T> HandleOut<'_, T> {
    /// Stores the new handle; the caller now owns it.
    pub(crate) fn put(self, value: T) {
        *self.0 = Box::into_raw(Box::new(value));
    }
}

/// # Safety
/// `ptr` is NULL or valid for writing one pointer.
pub(crate) unsafe fn handle_out<'a, T>(
    ptr: *mut *mut T,
    name: &'static str,
) -> Result<HandleOut<'a, T>, Failure> {
    // SAFETY: the caller passes NULL or a pointer to writable storage for one `T *`. Only
    // written to, never read (it may be uninitialized): `as_mut` on `*mut *mut T` only
    // creates a reference to the storage, which is fine for a plain pointer.
    unsafe { ptr.as_mut() }
        .map(HandleOut)
        .ok_or_else(|| Failure::null(name))
}

/// Releases a handle created by `HandleOut::put`. NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` created by this library, not used afterwards.
pub(crate) unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: created by `Box::into_raw` in `HandleOut::put`; the caller gives up ownership.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// A caller buffer `(out, out_cap, out_len)`.
pub(crate) struct OutBuf<'a> {
    buf: &'a mut [u8],
    len: &'a mut usize,
}

impl OutBuf<'_> {
    /// Checks that `needed` bytes fit; if not, stores `needed` in `*out_len`.
    pub(crate) fn reserve(&mut self, needed: usize) -> Result<(), Failure> {
        if needed > self.buf.len() {
            *self.len = needed;
            Err(Failure::buffer_too_small(needed, self.buf.len()))
        } else {
            Ok(())
        }
    }

    /// The whole buffer, for functions that write into it directly; call
    /// [`finish`](Self::finish) with the length written.
    pub(crate) fn buffer(&mut self) -> &mut [u8] {
        self.buf
    }

    /// Records that `len` bytes were written by [`buffer`](Self::buffer).
    pub(crate) fn finish(self, len: usize) {
        *self.len = len;
    }

    /// Copies `bytes` out, or reports the length needed.
    pub(crate) fn put(mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.reserve(bytes.len())?;
        match self.buf.get_mut(..bytes.len()) {
            Some(region) => region.copy_from_slice(bytes),
            None => return Err(Failure::buffer_too_small(bytes.len(), self.buf.len())),
        }
        *self.len = bytes.len();
        Ok(())
    }
}

/// # Safety
/// `out` is NULL or valid for writes of `out_cap` bytes, not overlapping any input;
/// `out_len` is NULL or valid for writing one `size_t`.
pub(crate) unsafe fn out_buf<'a>(
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> Result<OutBuf<'a>, Failure> {
    // SAFETY: the caller passes NULL or a pointer to a writable `size_t`.
    let len = unsafe { out_len.as_mut() }.ok_or_else(|| Failure::null("out_len"))?;
    let buf: &mut [u8] = if out.is_null() {
        if out_cap != 0 {
            return Err(Failure::null("out"));
        }
        &mut []
    } else {
        if out_cap > isize::MAX as usize {
            return Err(Failure::malformed("out_cap is larger than isize::MAX"));
        }
        // SAFETY: non-NULL and, by the header's conventions, writable for `out_cap` bytes and
        // not aliased by any input of the same call. Its contents may be uninitialized in C
        // terms; u8 has no invalid values, and nothing is read before it is written.
        unsafe { core::slice::from_raw_parts_mut(out, out_cap) }
    };
    Ok(OutBuf { buf, len })
}

/// `*out = value` for a scalar output parameter.
pub(crate) struct ValueOut<'a, T>(&'a mut T);

impl<T> ValueOut<'_, T> {
    pub(crate) fn put(self, value: T) {
        *self.0 = value;
    }
}

/// # Safety
/// `ptr` is NULL or valid for writing one `T`.
pub(crate) unsafe fn value_out<'a, T: Copy>(
    ptr: *mut T,
    name: &'static str,
) -> Result<ValueOut<'a, T>, Failure> {
    // SAFETY: the caller passes NULL or a pointer to a writable `T` (a plain integer type).
    unsafe { ptr.as_mut() }
        .map(ValueOut)
        .ok_or_else(|| Failure::null(name))
}

/// The length of standard padded base64 for `n` bytes, or `usize::MAX` on overflow.
pub(crate) const fn base64_len(n: usize) -> usize {
    match n.div_ceil(3).checked_mul(4) {
        Some(len) => len,
        None => usize::MAX,
    }
}
