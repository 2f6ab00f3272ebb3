//! Finds DPDK with pkg-config, generates bindings with bindgen and builds the
//! C shim that exports DPDK's `static inline` fast-path functions.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");

    let dpdk = match pkg_config::Config::new()
        .atleast_version("22.11")
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!(
                "error: DPDK 22.11 was not found by pkg-config ({e}).\n\
                 Install it with: apt-get install libdpdk-dev pkg-config\n\
                 (Debian 12 ships DPDK 22.11 as libdpdk-dev; dpdk-dev has dpdk-testpmd.)"
            );
            std::process::exit(1);
        }
    };

    // DPDK's headers need its own compile flags (-include rte_config.h, -march).
    let cflags: Vec<String> = pkg_config_cflags();

    let mut build = cc::Build::new();
    build.file("shim.c").opt_level(3).warnings(false);
    for p in &dpdk.include_paths {
        build.include(p);
    }
    for f in &cflags {
        if !f.starts_with("-I") {
            build.flag(f);
        }
    }
    build.compile("pmds_shim");

    let mut bg = bindgen::Builder::default()
        .header("wrapper.h")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .allowlist_function("rte_eal_.*")
        .allowlist_function("rte_thread_.*")
        .allowlist_function("rte_lcore_.*")
        .allowlist_function("rte_socket_.*")
        .allowlist_function("rte_strerror")
        .allowlist_function("rte_get_tsc_hz")
        .allowlist_function("rte_dev_.*")
        .allowlist_function("rte_mempool_.*")
        .allowlist_function("rte_pktmbuf_.*")
        .allowlist_function("rte_eth_.*")
        .allowlist_function("rte_vhost_.*")
        .allowlist_function("pmds_.*")
        .allowlist_type("rte_mbuf")
        .allowlist_type("rte_eth_.*")
        .allowlist_type("rte_vhost_.*")
        .allowlist_type("vhost_device_ops")
        .allowlist_var("RTE_.*")
        .allowlist_var("ETH_.*")
        .allowlist_var("VIRTIO_.*")
        .allowlist_var("VHOST_.*")
        // Packed structs that hold aligned ones do not compile as Rust; none
        // of them is on our path, so they stay opaque.
        .opaque_type("rte_l2tpv2_combined_msg_hdr")
        .opaque_type("rte_gtp_psc_generic_hdr")
        .opaque_type("rte_arp_hdr")
        .opaque_type("rte_arp_ipv4")
        .blocklist_type("max_align_t")
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false);
    for p in &dpdk.include_paths {
        bg = bg.clang_arg(format!("-I{}", p.display()));
    }
    for f in &cflags {
        bg = bg.clang_arg(f.clone());
    }
    let bindings = bg.generate().expect("bindgen failed on DPDK headers");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings.write_to_file(out).expect("writing bindings");
}

fn pkg_config_cflags() -> Vec<String> {
    let out = std::process::Command::new("pkg-config")
        .args(["--cflags", "libdpdk"])
        .output()
        .expect("running pkg-config");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}
