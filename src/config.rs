//! The configuration file (TOML): EAL and memory settings, PMD cores, ports
//! and how they are connected. Every value is checked before anything is
//! applied, and a refusal names the field and the reason.
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// EAL and hugepage settings.
    #[serde(default)]
    pub eal: EalConfig,
    /// PMD threads.
    #[serde(default)]
    pub pmd: PmdConfig,
    /// Packet buffers.
    #[serde(default)]
    pub memory: MemoryConfig,
    /// The control socket.
    #[serde(default)]
    pub control: ControlConfig,
    /// Ports, in order; a port's OpenFlow number defaults to its position + 1.
    #[serde(default, rename = "port")]
    pub ports: Vec<PortConfig>,
    /// Caches and rules.
    #[serde(default)]
    pub datapath: DatapathConfig,
    /// Static port-to-port forwarding: every packet received on `from` is sent to `to`.
    #[serde(default, rename = "xconnect")]
    pub xconnects: Vec<XconnectConfig>,
    /// The OpenFlow channel.
    #[serde(default)]
    pub openflow: OpenFlowConfig,
}

/// The OpenFlow channel (`[openflow]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct OpenFlowConfig {
    /// Passive connections: `punix:PATH`, `ptcp:PORT[:IP]` (as OVS).
    #[serde(default)]
    pub listen: Vec<String>,
    /// The datapath id, hex (`"0x1"`); by default from the first port's MAC.
    pub datapath_id: Option<String>,
}

/// Where the OpenFlow channel listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfListen {
    /// A unix socket at this path.
    Unix(PathBuf),
    /// A TCP port on an address (`0.0.0.0` when none is given, as OVS).
    Tcp(std::net::SocketAddr),
}

/// Parses `punix:PATH` or `ptcp:PORT[:IP]`.
pub fn parse_of_listen(s: &str) -> Result<OfListen, String> {
    if let Some(path) = s.strip_prefix("punix:") {
        if path.is_empty() {
            return Err(format!("{s:?} names no path"));
        }
        return Ok(OfListen::Unix(PathBuf::from(path)));
    }
    if let Some(rest) = s.strip_prefix("ptcp:") {
        let (port, ip) = rest.split_once(':').unwrap_or((rest, "0.0.0.0"));
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{s:?}: {port:?} is not a TCP port number"))?;
        let ip: std::net::IpAddr = ip
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| format!("{s:?}: {ip:?} is not an IP address"))?;
        return Ok(OfListen::Tcp(std::net::SocketAddr::new(ip, port)));
    }
    Err(format!(
        "{s:?} is not punix:PATH or ptcp:PORT[:IP] (active connections are not supported yet)"
    ))
}

/// Parses a datapath id: up to 16 hex digits, `0x` optional.
pub fn parse_dpid(s: &str) -> Result<u64, String> {
    let hex = s.trim_start_matches("0x");
    if hex.is_empty() || hex.len() > 16 {
        return Err(format!("{s:?} is not 1 to 16 hex digits"));
    }
    u64::from_str_radix(hex, 16).map_err(|_| format!("{s:?} is not a hex number"))
}

/// EAL settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EalConfig {
    /// `--file-prefix`: lets several DPDK processes share a host.
    #[serde(default = "default_file_prefix")]
    pub file_prefix: String,
    /// The core the main (control) thread runs on; default: the first
    /// allowed core that is not a PMD core.
    pub main_core: Option<usize>,
    /// `--socket-mem`, e.g. "512" or "512,512" (MB per NUMA node).
    pub socket_mem: Option<String>,
    /// `--huge-dir`.
    pub huge_dir: Option<PathBuf>,
    /// `--in-memory`: no hugepage files, no shared config.
    #[serde(default)]
    pub in_memory: bool,
    /// `--no-pci`: skip PCI scanning (hosts with only virtual devices).
    #[serde(default)]
    pub no_pci: bool,
    /// Extra arguments passed to the EAL verbatim.
    #[serde(default)]
    pub args: Vec<String>,
}

fn default_file_prefix() -> String {
    "pmdswitch".into()
}

impl Default for EalConfig {
    fn default() -> Self {
        EalConfig {
            file_prefix: default_file_prefix(),
            main_core: None,
            socket_mem: None,
            huge_dir: None,
            in_memory: false,
            no_pci: false,
            args: Vec::new(),
        }
    }
}

/// PMD thread placement.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PmdConfig {
    /// Cores to run PMD threads on, one thread each.
    pub cores: Option<Vec<usize>>,
    /// The same as a hex mask, like OVS's `pmd-cpu-mask` (e.g. "0x6").
    pub cpu_mask: Option<String>,
    /// Hold output up to this long (µs) to send fuller batches, like OVS's
    /// `tx-flush-interval`; 0 sends at the end of every loop iteration.
    #[serde(default)]
    pub tx_flush_interval_us: u32,
    /// Longest nap (µs) of a PMD that finds little to do, like OVS's
    /// `pmd-maxsleep`; 0 never sleeps.
    #[serde(default)]
    pub max_sleep_us: u32,
    /// Count the cycles each stage of the packet path takes
    /// (`pmd-perf-show`); costs a few cycles per packet, so off by default
    /// (OVS's `pmd-perf-metrics`).
    #[serde(default)]
    pub stage_cycles: bool,
    /// How rx queues are spread over PMDs: "roundrobin", "cycles" or "group"
    /// (OVS's `pmd-rxq-assign`).
    #[serde(default)]
    pub rxq_assign: Policy,
    /// Auto load balance: move queues when a PMD is overloaded and a new
    /// placement would even the load out (OVS's `pmd-auto-lb`).
    #[serde(default)]
    pub auto_lb: bool,
    /// Busy share (%) over which a PMD counts as overloaded.
    #[serde(default = "default_lb_load")]
    pub auto_lb_load_threshold: u8,
    /// Least cut (%) in the variance of PMD loads worth a reassignment.
    #[serde(default = "default_lb_improvement")]
    pub auto_lb_improvement_threshold: u8,
    /// Seconds between auto load balance checks.
    #[serde(default = "default_lb_interval")]
    pub auto_lb_interval_s: u32,
}

fn default_lb_load() -> u8 {
    95
}
fn default_lb_improvement() -> u8 {
    25
}
fn default_lb_interval() -> u32 {
    60
}

impl Default for PmdConfig {
    fn default() -> Self {
        PmdConfig {
            cores: None,
            cpu_mask: None,
            tx_flush_interval_us: 0,
            max_sleep_us: 0,
            stage_cycles: false,
            rxq_assign: Default::default(),
            auto_lb: false,
            auto_lb_load_threshold: default_lb_load(),
            auto_lb_improvement_threshold: default_lb_improvement(),
            auto_lb_interval_s: default_lb_interval(),
        }
    }
}

/// Mempool sizing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Mbufs per mempool (one pool per NUMA socket and MTU).
    #[serde(default = "default_mbufs")]
    pub mbufs: u32,
}

fn default_mbufs() -> u32 {
    32768
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            mbufs: default_mbufs(),
        }
    }
}

/// The control socket.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// Path of the unix socket `pmdswitch ctl` talks to.
    #[serde(default = "default_ctl_socket")]
    pub socket: PathBuf,
    /// Its permission bits, octal as a string (default "0600").
    #[serde(default = "default_ctl_mode")]
    pub mode: String,
    /// Address of the Prometheus text endpoint (`GET /metrics`), e.g.
    /// "127.0.0.1:9470"; none by default.
    pub metrics: Option<std::net::SocketAddr>,
    /// Where to answer `ovs-appctl` as ovs-vswitchd would: the directory
    /// of `ovs-vswitchd.pid` and `ovs-vswitchd.<pid>.ctl`, e.g.
    /// "/var/run/openvswitch". None by default, so that pmdswitch never
    /// takes an OVS's files unasked.
    pub appctl_rundir: Option<PathBuf>,
    /// The bridge's name, as `ovs-appctl fdb/show` and `ofproto/trace` name
    /// it (default "br0").
    #[serde(default = "default_bridge")]
    pub bridge: String,
}

fn default_bridge() -> String {
    "br0".into()
}

/// Where the control socket goes unless the config says otherwise.
pub fn default_ctl_socket() -> PathBuf {
    PathBuf::from("/run/pmdswitch/pmdswitch.ctl")
}

fn default_ctl_mode() -> String {
    "0600".into()
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            socket: default_ctl_socket(),
            mode: default_ctl_mode(),
            metrics: None,
            appctl_rundir: None,
            bridge: default_bridge(),
        }
    }
}

/// What kind of port.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum PortType {
    /// A DPDK ethdev: PCI NIC or virtual device, named by `devargs`.
    #[default]
    #[serde(rename = "dpdk")]
    Dpdk,
    /// vhost-user, we listen on `path` and the VM connects (OVS's dpdkvhostuser).
    #[serde(rename = "vhost-user-server", alias = "dpdkvhostuser")]
    VhostServer,
    /// vhost-user, the VM side listens on `path` and we connect and reconnect
    /// (OVS's dpdkvhostuserclient).
    #[serde(rename = "vhost-user-client", alias = "dpdkvhostuserclient")]
    VhostClient,
}

/// One port.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PortConfig {
    /// A name for the CLI and the config (unique).
    pub name: String,
    /// The port type (default `dpdk`).
    #[serde(default, rename = "type")]
    pub kind: PortType,
    /// DPDK devargs (type `dpdk`): a PCI address or a virtual device string.
    #[serde(default)]
    pub devargs: String,
    /// vhost-user socket path (vhost types).
    pub path: Option<PathBuf>,
    /// Permission bits for a vhost-user server socket, octal (e.g. "0660").
    pub socket_mode: Option<String>,
    /// Owner of a vhost-user server socket: "user", "user:group" or ":group",
    /// names or numbers.
    pub socket_owner: Option<String>,
    /// Virtio features not to offer: mrg_rxbuf, indirect_desc, event_idx, mq, mtu, guest_announce.
    #[serde(default)]
    pub disable_features: Vec<String>,
    /// Rx queues pinned to PMD cores, "queue:core,..." (OVS's pmd-rxq-affinity).
    pub rxq_affinity: Option<String>,
    /// OpenFlow port number (default: position in the list + 1).
    pub ofport: Option<u32>,
    /// Rx queues (clamped to what the device supports).
    #[serde(default = "one")]
    pub rxq: u16,
    /// Tx queues (default: one per PMD thread, clamped to the device).
    pub txq: Option<u16>,
    /// Rx descriptors per queue.
    #[serde(default = "default_desc")]
    pub rx_desc: u16,
    /// Tx descriptors per queue.
    #[serde(default = "default_desc")]
    pub tx_desc: u16,
    /// MTU (buffers are sized for it).
    #[serde(default = "default_mtu")]
    pub mtu: u16,
}

fn one() -> u16 {
    1
}
fn default_desc() -> u16 {
    1024
}
fn default_mtu() -> u16 {
    1500
}

/// One static forwarding pair.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct XconnectConfig {
    /// Port (name) packets come in on.
    pub from: String,
    /// Port (name) they go out of.
    pub to: String,
}

/// Core numbers at or above this are refused before any list is expanded
/// (Linux's CPU_SETSIZE); the cores a process may use are checked later.
pub const MAX_CORES: usize = 1024;
/// The most mbufs one pool may be asked for (each is a buffer of 2 KB or
/// more); the hugepage memory of the host is checked before start.
pub const MAX_MBUFS: u32 = 1 << 24;
/// The most signature match cache entries (6 bytes each, per PMD).
pub const MAX_SMC_ENTRIES: usize = 1 << 24;

/// A configuration refused: which field, and why.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("config: {field}: {reason}")]
pub struct ConfigError {
    /// The field, as a path (`port[2].devargs`).
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Parses "queue:core,queue:core".
pub fn parse_affinity(s: &str) -> Result<Vec<(u16, usize)>, String> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|pair| {
            let (q, c) = pair
                .split_once(':')
                .ok_or_else(|| format!("{pair:?} is not queue:core"))?;
            let q = q
                .trim()
                .parse()
                .map_err(|_| format!("{q:?} is not a queue number"))?;
            let c = c
                .trim()
                .parse()
                .map_err(|_| format!("{c:?} is not a core number"))?;
            Ok((q, c))
        })
        .collect()
}

impl PortConfig {
    /// What the port opens, for telling whether two ports would open the
    /// same thing: a DPDK device's name (the devargs before the first
    /// comma), or a vhost-user socket path.
    pub fn device(&self) -> String {
        match self.kind {
            PortType::Dpdk => {
                let name = self.devargs.split(',').next().unwrap_or_default();
                format!("device {:?}", name.trim())
            }
            PortType::VhostServer | PortType::VhostClient => {
                let path = self.path.as_deref().unwrap_or(Path::new(""));
                format!("vhost-user socket {}", path.display())
            }
        }
    }

    /// The checks one port must pass on its own; `prefix` names it in errors
    /// (`port[2]`, or the port's name for a port added at run time).
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let p = self;
        let f = |k: &str| format!("{prefix}.{k}");
        if p.name.is_empty() || p.name.contains(char::is_whitespace) {
            return Err(err(
                f("name"),
                format!("{:?} must be non-empty without spaces", p.name),
            ));
        }
        if let Some(of) = p.ofport {
            if of == 0 || of >= 0xff00 {
                return Err(err(f("ofport"), format!("{of} is outside 1..65279")));
            }
        }
        match p.kind {
            PortType::Dpdk => {
                if p.devargs.trim().is_empty() {
                    return Err(err(f("devargs"), "a dpdk port needs devargs"));
                }
                if p.path.is_some() || p.socket_mode.is_some() || !p.disable_features.is_empty() {
                    return Err(err(
                        f("path"),
                        "path, socket_mode and disable_features are for vhost ports",
                    ));
                }
            }
            PortType::VhostServer | PortType::VhostClient => {
                let path = p
                    .path
                    .as_ref()
                    .ok_or_else(|| err(f("path"), "a vhost-user port needs a socket path"))?;
                if !path.is_absolute() {
                    return Err(err(
                        f("path"),
                        format!("{} must be absolute", path.display()),
                    ));
                }
                // sun_path holds 108 bytes, the NUL included.
                if path.as_os_str().len() > 107 {
                    return Err(err(
                        f("path"),
                        "longer than a unix socket path can be (107 bytes)",
                    ));
                }
                if !p.devargs.is_empty() {
                    return Err(err(f("devargs"), "devargs are for dpdk ports"));
                }
                if let Some(m) = &p.socket_mode {
                    parse_mode(m).ok_or_else(|| {
                        err(f("socket_mode"), format!("{m:?} is not an octal mode"))
                    })?;
                    if p.kind == PortType::VhostClient {
                        return Err(err(
                            f("socket_mode"),
                            "a client-mode port does not own its socket",
                        ));
                    }
                }
                for feat in &p.disable_features {
                    if !crate::dpdk::vhost::FEATURE_NAMES
                        .iter()
                        .any(|(n, _)| n == feat)
                    {
                        let known: Vec<_> = crate::dpdk::vhost::FEATURE_NAMES
                            .iter()
                            .map(|f| f.0)
                            .collect();
                        return Err(err(
                            f("disable_features"),
                            format!("unknown feature {feat:?} (known: {})", known.join(", ")),
                        ));
                    }
                }
            }
        }
        if let Some(a) = &p.rxq_affinity {
            for (q, _) in parse_affinity(a).map_err(|r| err(f("rxq_affinity"), r))? {
                if q >= p.rxq {
                    return Err(err(
                        f("rxq_affinity"),
                        format!("queue {q} does not exist (rxq = {})", p.rxq),
                    ));
                }
            }
        }
        if p.rxq == 0 || p.rxq > 64 {
            return Err(err(f("rxq"), format!("{} is outside 1..64", p.rxq)));
        }
        if matches!(p.txq, Some(0)) || p.txq.is_some_and(|t| t > 64) {
            return Err(err(f("txq"), "must be in 1..64"));
        }
        for (k, d) in [("rx_desc", p.rx_desc), ("tx_desc", p.tx_desc)] {
            if !(64..=16384).contains(&d) || !d.is_power_of_two() {
                return Err(err(
                    f(k),
                    format!("{d} must be a power of two in 64..16384"),
                ));
            }
        }
        if !(68..=9710).contains(&p.mtu) {
            return Err(err(f("mtu"), format!("{} is outside 68..9710", p.mtu)));
        }
        Ok(())
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(path.display().to_string(), format!("cannot read: {e}")))?;
        Self::parse(&text).map_err(|mut e| {
            e.field = format!("{}: {}", path.display(), e.field);
            e
        })
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    format!("line {line}")
                })
                .unwrap_or_else(|| "file".into());
            // Some parse errors carry no message of their own (a control
            // character in a comment, found by fuzzing): use the full text.
            let reason = match e.message().trim() {
                "" => e.to_string().trim().to_owned(),
                m => m.to_owned(),
            };
            err(at, reason)
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The checks a parsed configuration must pass.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.memory.mbufs < 1024 {
            return Err(err(
                "memory.mbufs",
                format!("{} is too few; at least 1024", self.memory.mbufs),
            ));
        }
        if self.memory.mbufs > MAX_MBUFS {
            return Err(err(
                "memory.mbufs",
                format!("{} is too many; at most {MAX_MBUFS}", self.memory.mbufs),
            ));
        }
        let smc = self.datapath.smc_entries;
        if !(4..=MAX_SMC_ENTRIES).contains(&smc) {
            return Err(err(
                "datapath.smc_entries",
                format!("{smc} is outside 4..{MAX_SMC_ENTRIES}"),
            ));
        }
        parse_mode(&self.control.mode).ok_or_else(|| {
            err(
                "control.mode",
                format!("{:?} is not an octal mode like \"0600\"", self.control.mode),
            )
        })?;
        for (i, l) in self.openflow.listen.iter().enumerate() {
            parse_of_listen(l).map_err(|e| err(format!("openflow.listen[{i}]"), e))?;
        }
        if let Some(d) = &self.openflow.datapath_id {
            parse_dpid(d).map_err(|e| err("openflow.datapath_id", e))?;
        }
        if self.pmd.tx_flush_interval_us > 1_000_000 {
            return Err(err("pmd.tx_flush_interval_us", "at most 1000000 (1 s)"));
        }
        for (k, v) in [
            ("auto_lb_load_threshold", self.pmd.auto_lb_load_threshold),
            (
                "auto_lb_improvement_threshold",
                self.pmd.auto_lb_improvement_threshold,
            ),
        ] {
            if v > 100 {
                return Err(err(
                    format!("pmd.{k}"),
                    format!("{v} is a percentage: at most 100"),
                ));
            }
        }
        if self.pmd.auto_lb_interval_s == 0 {
            return Err(err("pmd.auto_lb_interval_s", "must be at least 1"));
        }
        if self.pmd.max_sleep_us > 10_000 {
            return Err(err(
                "pmd.max_sleep_us",
                "at most 10000 (10 ms), as OVS allows",
            ));
        }
        let dp = &self.datapath;
        if !(100..=86_400_000).contains(&dp.max_idle_ms) {
            return Err(err(
                "datapath.max_idle_ms",
                format!(
                    "{} is out of range: 100 to 86400000 (a day)",
                    dp.max_idle_ms
                ),
            ));
        }
        if !(1..=10_000_000).contains(&dp.flow_limit) {
            return Err(err(
                "datapath.flow_limit",
                format!("{} is out of range: 1 to 10000000", dp.flow_limit),
            ));
        }
        if self.pmd.cores.is_some() && self.pmd.cpu_mask.is_some() {
            return Err(err("pmd", "give either cores or cpu_mask, not both"));
        }
        let cores = self.pmd_cores()?;
        if let Some(m) = self.eal.main_core {
            if m >= MAX_CORES {
                return Err(err(
                    "eal.main_core",
                    format!("{m} is not a core number (at most {})", MAX_CORES - 1),
                ));
            }
            if cores.contains(&m) {
                return Err(err("eal.main_core", format!("core {m} is also a PMD core")));
            }
        }
        if self.ports.is_empty() {
            return Err(err("port", "no ports configured"));
        }
        if self.ports.len() > MAX_PORTS {
            return Err(err(
                "port",
                format!(
                    "{} ports; the switch has room for {}",
                    self.ports.len(),
                    MAX_PORTS
                ),
            ));
        }
        let mut names = HashSet::new();
        let mut ofports = HashSet::new();
        let mut devices = std::collections::HashMap::new();
        for (i, p) in self.ports.iter().enumerate() {
            let prefix = format!("port[{i}]");
            p.validate(&prefix)?;
            if let Some(other) = devices.insert(p.device(), &p.name) {
                let k = if p.kind == PortType::Dpdk {
                    "devargs"
                } else {
                    "path"
                };
                return Err(err(
                    format!("{prefix}.{k}"),
                    format!("{} is already port {other:?}", p.device()),
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(err(
                    format!("{prefix}.name"),
                    format!("{:?} is used twice", p.name),
                ));
            }
            let of = self.ofport(i);
            if !ofports.insert(of) {
                return Err(err(
                    format!("{prefix}.ofport"),
                    format!("{of} is used twice"),
                ));
            }
        }
        let mut from_seen = HashSet::new();
        for (i, x) in self.xconnects.iter().enumerate() {
            for (k, n) in [("from", &x.from), ("to", &x.to)] {
                if !names.contains(n.as_str()) {
                    return Err(err(
                        format!("xconnect[{i}].{k}"),
                        format!("no port named {n:?}"),
                    ));
                }
            }
            if !from_seen.insert(x.from.as_str()) {
                return Err(err(
                    format!("xconnect[{i}].from"),
                    format!("port {:?} is cross-connected twice", x.from),
                ));
            }
        }
        Ok(())
    }

    /// OpenFlow number of port `i`.
    pub fn ofport(&self, i: usize) -> u32 {
        self.ports[i].ofport.unwrap_or(i as u32 + 1)
    }

    /// The PMD cores asked for (not yet checked against the machine); when
    /// none are given, one PMD on the last allowed core.
    pub fn pmd_cores(&self) -> Result<Vec<usize>, ConfigError> {
        let cores = if let Some(c) = &self.pmd.cores {
            c.clone()
        } else if let Some(m) = &self.pmd.cpu_mask {
            parse_cpu_mask(m).map_err(|r| err("pmd.cpu_mask", r))?
        } else {
            return Ok(Vec::new());
        };
        if cores.is_empty() {
            return Err(err("pmd", "the core list is empty"));
        }
        let mut seen = HashSet::new();
        for c in &cores {
            if *c >= MAX_CORES {
                return Err(err(
                    "pmd.cores",
                    format!("{c} is not a core number (at most {})", MAX_CORES - 1),
                ));
            }
            if !seen.insert(*c) {
                return Err(err("pmd.cores", format!("core {c} is listed twice")));
            }
        }
        Ok(cores)
    }
}

/// Parses octal permission bits ("0600", "0o600").
pub fn parse_mode(m: &str) -> Option<u32> {
    u32::from_str_radix(m.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
}

/// Parses a hex CPU mask ("0x6" or "6") into core numbers.
pub fn parse_cpu_mask(mask: &str) -> Result<Vec<usize>, String> {
    let hex = mask
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X");
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{mask:?} is not a hex mask like \"0x6\""));
    }
    let hex = hex.trim_start_matches('0');
    if hex.len() > MAX_CORES / 4 {
        return Err(format!(
            "{mask:?} names cores beyond {}, the highest core number",
            MAX_CORES - 1
        ));
    }
    let mut cores = Vec::new();
    for (pos, c) in hex.chars().rev().enumerate() {
        let nib = c.to_digit(16).expect("checked hex");
        for b in 0..4 {
            if nib & (1 << b) != 0 {
                cores.push(pos * 4 + b);
            }
        }
    }
    if cores.is_empty() {
        return Err(format!("{mask:?} selects no core"));
    }
    Ok(cores)
}

/// Most ports a switch can have at once (port slots; each PMD keeps
/// counters and an output batch for every slot).
pub const MAX_PORTS: usize = 256;

/// How unpinned queues are spread over PMDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// In order, one PMD after the other, ignoring load.
    #[serde(rename = "roundrobin")]
    RoundRobin,
    /// Busiest queue first, dealt over the PMDs up and down in turn.
    #[default]
    Cycles,
    /// Busiest queue first, each to the PMD with the least load so far.
    Group,
}

impl Policy {
    /// The name in config and reports.
    pub fn name(self) -> &'static str {
        match self {
            Policy::RoundRobin => "roundrobin",
            Policy::Cycles => "cycles",
            Policy::Group => "group",
        }
    }
}

/// Datapath settings (`[datapath]` in the config).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatapathConfig {
    /// Insert one EMC miss in this many (OVS's `emc-insert-inv-prob`); 0 turns the EMC off.
    #[serde(default = "default_emc_inv_prob")]
    pub emc_insert_inv_prob: u32,
    /// Use the signature match cache (OVS's `smc-enable`).
    #[serde(default)]
    pub smc: bool,
    /// SMC entries.
    #[serde(default = "default_smc_entries")]
    pub smc_entries: usize,
    /// Rules in ovs-ofctl syntax, installed at start.
    #[serde(default)]
    pub flows: Vec<String>,
    /// A file of rules, one per line (`#` comments), installed at start.
    pub flows_file: Option<std::path::PathBuf>,
    /// MAC learning table ageing for NORMAL, seconds.
    #[serde(default = "default_ageing")]
    pub mac_ageing_s: u64,
    /// A megaflow that no packet hit for this long is removed (OVS's
    /// `max-idle`).
    #[serde(default = "default_max_idle_ms")]
    pub max_idle_ms: u64,
    /// Most megaflows per PMD (OVS's `flow-limit`); past it, missed packets
    /// are translated and executed but their megaflows are not kept.
    #[serde(default = "default_flow_limit")]
    pub flow_limit: usize,
    /// Let NORMAL forward frames to reserved multicast addresses (STP,
    /// LACP, LLDP, ...), which it otherwise drops (OVS's `forward-bpdu`).
    #[serde(default)]
    pub forward_bpdu: bool,
}

fn default_emc_inv_prob() -> u32 {
    100
}
fn default_smc_entries() -> usize {
    crate::cache::smc::SMC_DEFAULT_ENTRIES
}
fn default_ageing() -> u64 {
    300
}
fn default_max_idle_ms() -> u64 {
    10_000
}
fn default_flow_limit() -> usize {
    200_000
}

impl Default for DatapathConfig {
    fn default() -> Self {
        DatapathConfig {
            emc_insert_inv_prob: default_emc_inv_prob(),
            smc: false,
            smc_entries: default_smc_entries(),
            flows: Vec::new(),
            flows_file: None,
            mac_ageing_s: default_ageing(),
            max_idle_ms: default_max_idle_ms(),
            flow_limit: default_flow_limit(),
            forward_bpdu: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [pmd]
        cores = [1]
        [[port]]
        name = "a"
        devargs = "net_null0"
        [[port]]
        name = "b"
        devargs = "net_null1"
        [[xconnect]]
        from = "a"
        to = "b"
    "#;

    #[test]
    fn parses_a_good_config() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.ports.len(), 2);
        assert_eq!(c.ofport(1), 2);
        assert_eq!(c.pmd_cores().unwrap(), vec![1]);
        assert_eq!(c.control.mode, "0600");
    }

    #[test]
    fn refusals_name_the_field() {
        let e = Config::parse(&GOOD.replace("to = \"b\"", "to = \"zz\"")).unwrap_err();
        assert_eq!(e.field, "xconnect[0].to");
        let e = Config::parse(&GOOD.replace("name = \"b\"", "name = \"a\"")).unwrap_err();
        assert_eq!(e.field, "port[1].name");
        let e = Config::parse(&GOOD.replace("cores = [1]", "cores = [1, 1]")).unwrap_err();
        assert_eq!(e.field, "pmd.cores");
        let e = Config::parse("[[port]]\nname = \"a\"\ndevargs = \"x\"\nbogus = 1\n").unwrap_err();
        assert!(e.field.starts_with("line 4"), "{e}");
        assert!(e.reason.contains("bogus"), "{e}");
        let e = Config::parse(&format!("{GOOD}\n[memory]\nmbufs = 10\n")).unwrap_err();
        assert_eq!(e.field, "memory.mbufs");
        let e = Config::parse(&GOOD.replace("net_null1", "net_null0,no-rx=1")).unwrap_err();
        assert_eq!(e.field, "port[1].devargs");
        assert!(e.reason.contains("\"a\""), "{e}");
        let many: String = (0..300)
            .map(|i| format!("[[port]]\nname = \"p{i}\"\ndevargs = \"net_null{i}\"\n"))
            .collect();
        let e = Config::parse(&many).unwrap_err();
        assert_eq!(e.field, "port");
    }

    #[test]
    fn openflow_targets_and_datapath_ids_are_checked() {
        let of = |body: &str| Config::parse(&format!("{GOOD}\n[openflow]\n{body}\n"));
        let c = of(
            r#"listen = ["punix:/run/br0.mgmt", "ptcp:6653:127.0.0.1", "ptcp:6634"]
datapath_id = "0x00000000000000a1""#,
        )
        .unwrap();
        assert_eq!(
            parse_of_listen(&c.openflow.listen[1]),
            Ok(OfListen::Tcp("127.0.0.1:6653".parse().unwrap()))
        );
        assert_eq!(
            parse_of_listen(&c.openflow.listen[2]),
            Ok(OfListen::Tcp("0.0.0.0:6634".parse().unwrap()))
        );
        assert_eq!(parse_dpid("0x00000000000000a1"), Ok(0xa1));
        for (body, field, why) in [
            (
                r#"listen = ["tcp:1.2.3.4:6653"]"#,
                "openflow.listen[0]",
                "not punix",
            ),
            (r#"listen = ["punix:"]"#, "openflow.listen[0]", "no path"),
            (
                r#"listen = ["ptcp:70000"]"#,
                "openflow.listen[0]",
                "TCP port",
            ),
            (
                r#"listen = ["ptcp:6653:nowhere"]"#,
                "openflow.listen[0]",
                "IP address",
            ),
            (
                r#"datapath_id = "0xfffffffffffffffff""#,
                "openflow.datapath_id",
                "16 hex",
            ),
            (r#"datapath_id = "zz""#, "openflow.datapath_id", "hex"),
        ] {
            let e = of(body).unwrap_err();
            assert_eq!(e.field, field, "{body}: {e}");
            assert!(e.reason.contains(why), "{body}: {e}");
        }
        assert!(of("controllers = []").is_err(), "unknown keys are refused");
    }

    #[test]
    fn cpu_masks() {
        assert_eq!(parse_cpu_mask("0x6").unwrap(), vec![1, 2]);
        assert_eq!(parse_cpu_mask("10").unwrap(), vec![4]);
        assert!(parse_cpu_mask("0x0").is_err());
        assert!(parse_cpu_mask("xyz").is_err());
        assert!(parse_cpu_mask(&"f".repeat(1_000_000)).is_err());
        assert_eq!(
            parse_cpu_mask(&format!("0x{}1", "0".repeat(5000))),
            Ok(vec![0])
        );
    }

    #[test]
    fn every_refusal_has_a_field_and_a_reason() {
        // fuzz/artifacts/config_toml/crash-297ec22c...: "#\x0f" was refused
        // with an empty reason.
        for text in ["#\x0f", "a = \"\x01\"", "[[port]]\x7f"] {
            let e = Config::parse(text).unwrap_err();
            assert!(
                !e.field.is_empty() && !e.reason.is_empty(),
                "{text:?}: {e:?}"
            );
        }
    }

    #[test]
    fn sizes_from_users_are_bounded() {
        for (extra, field) in [
            (
                "[datapath]\nsmc_entries = 4294967295\n",
                "datapath.smc_entries",
            ),
            ("[datapath]\nsmc_entries = 0\n", "datapath.smc_entries"),
            ("[memory]\nmbufs = 4294967295\n", "memory.mbufs"),
        ] {
            let e = Config::parse(&format!("{GOOD}\n{extra}")).unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
        let e = Config::parse(&GOOD.replace("cores = [1]", "cores = [4000000000]")).unwrap_err();
        assert_eq!(e.field, "pmd.cores");
        let e = Config::parse(&format!("{GOOD}\n[eal]\nmain_core = 99999\n")).unwrap_err();
        assert_eq!(e.field, "eal.main_core");
    }
}
