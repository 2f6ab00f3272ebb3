//! The Environment Abstraction Layer: initialised once per process.
use super::error::DpdkError;
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicU8, Ordering};

const EAL_NEVER: u8 = 0;
const EAL_RUNNING: u8 = 1;
const EAL_DONE: u8 = 2;
static EAL_STATE: AtomicU8 = AtomicU8::new(EAL_NEVER);

/// Proof that the EAL is initialised. Dropping it cleans the EAL up; DPDK
/// cannot be initialised again in the same process afterwards.
#[derive(Debug)]
pub struct Eal {
    _private: (),
}

impl Eal {
    /// Initialises the EAL with `args` (without the program name, e.g.
    /// `["-l", "0", "--no-pci", "--file-prefix", "sw1"]`).
    pub fn init(args: &[String]) -> Result<Eal, DpdkError> {
        if EAL_STATE
            .compare_exchange(EAL_NEVER, EAL_RUNNING, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(DpdkError::Invalid(
                "the DPDK EAL can be initialised only once per process".into(),
            ));
        }
        let mut owned = Vec::with_capacity(args.len() + 1);
        owned.push(CString::new("pmdswitch").expect("static name"));
        for a in args {
            owned.push(CString::new(a.as_str()).map_err(|_| {
                DpdkError::Invalid(format!("EAL argument {a:?} contains a NUL byte"))
            })?);
        }
        // rte_eal_init may keep pointers into argv for the process lifetime,
        // so the strings are leaked on purpose (once per process).
        let strings: &'static mut [CString] = Box::leak(owned.into_boxed_slice());
        let argv: &'static mut [*mut c_char] = Box::leak(
            strings
                .iter_mut()
                .map(|s| s.as_ptr() as *mut c_char)
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        // SAFETY: argv holds argc valid NUL-terminated strings that live for
        // the rest of the process; EAL_STATE guarantees a single call.
        let ret = unsafe { dpdk_sys::rte_eal_init(argv.len() as i32, argv.as_mut_ptr()) };
        if ret < 0 {
            EAL_STATE.store(EAL_DONE, Ordering::SeqCst);
            return Err(DpdkError::from_ret(
                format!("EAL initialisation with arguments {args:?}"),
                ret,
            ));
        }
        Ok(Eal { _private: () })
    }

    /// Whether the EAL is currently initialised in this process.
    pub fn is_running() -> bool {
        EAL_STATE.load(Ordering::SeqCst) == EAL_RUNNING
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: the EAL was initialised by Eal::init and is cleaned up once,
        // here; callers drop ports and mempools before the Eal (they borrow it
        // logically through the switch's teardown order).
        unsafe {
            dpdk_sys::rte_eal_cleanup();
        }
        EAL_STATE.store(EAL_DONE, Ordering::SeqCst);
    }
}
