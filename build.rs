//! Tells the tests which SIMD variants this machine runs: a variant's
//! property tests are ignored ("SKIPPED", not passed) where the CPU lacks
//! it, and run where it has it.
fn main() {
    const FEATURES: &[&str] = &["avx2", "vpclmulqdq", "avx512f", "avx512bw", "avx512dq"];
    for f in FEATURES {
        println!("cargo::rustc-check-cfg=cfg(pmdswitch_cpu_{f})");
    }
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(target_arch = "x86_64")]
    {
        let has = |f: &str| match f {
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "vpclmulqdq" => std::arch::is_x86_feature_detected!("vpclmulqdq"),
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            "avx512bw" => std::arch::is_x86_feature_detected!("avx512bw"),
            "avx512dq" => std::arch::is_x86_feature_detected!("avx512dq"),
            _ => false,
        };
        let host_is_target = std::env::var("HOST") == std::env::var("TARGET");
        for f in FEATURES {
            if host_is_target && has(f) {
                println!("cargo::rustc-cfg=pmdswitch_cpu_{f}");
            }
        }
    }
}
