//! DPDK errors, with DPDK's own message for the errno it returned.
use std::ffi::CStr;

/// An error returned by a DPDK call.
#[derive(Debug, thiserror::Error)]
pub enum DpdkError {
    /// A DPDK function failed; `code` is the (positive) errno it reported.
    #[error("{op}: {msg} (errno {code})")]
    Call {
        /// What we were doing, in words, with the object it concerned.
        op: String,
        /// The errno DPDK returned.
        code: i32,
        /// DPDK's text for that errno.
        msg: String,
    },
    /// An argument we refuse before calling DPDK.
    #[error("{0}")]
    Invalid(String),
}

impl DpdkError {
    /// Builds an error from a DPDK return value (negative errno) or, when
    /// `ret` is not negative, from `rte_errno`.
    pub(crate) fn from_ret(op: impl Into<String>, ret: i32) -> DpdkError {
        let code = if ret < 0 { -ret } else { rte_errno() };
        DpdkError::Call {
            op: op.into(),
            code,
            msg: strerror(code),
        }
    }

    /// The errno of a failed call, if any.
    pub fn code(&self) -> Option<i32> {
        match self {
            DpdkError::Call { code, .. } => Some(*code),
            DpdkError::Invalid(_) => None,
        }
    }
}

/// The calling thread's `rte_errno`.
pub fn rte_errno() -> i32 {
    // SAFETY: reads a thread-local integer; no preconditions.
    unsafe { dpdk_sys::pmds_errno() }
}

/// DPDK's description of an errno value (covers DPDK's own codes too).
pub fn strerror(code: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local
    // NUL-terminated string, valid at least until the next call on this thread.
    unsafe {
        let p = dpdk_sys::rte_strerror(code);
        if p.is_null() {
            return format!("error {code}");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
