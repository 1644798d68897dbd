//! Synthetic sites of a chosen size, for benchmarks and scale tests.
//!
//! [`generate`] turns a [`SynthSpec`] (zones, assets, conduits, rules, files, seed) into the
//! `.pal` files of one site that checks with no errors. The same seed always gives the same
//! text. The shape follows a Purdue-style plant: a plant backbone (`plant_core`) reached from
//! the business network and the internet through an edge firewall; process areas of up to
//! eight zones (operations, supervisory, control cells, safety) each behind an area firewall
//! whose uplink faces the backbone; each area's safety zone sits behind an inline gateway on
//! its first control cell. Every conduit's two zones are therefore joined by the topology.
//! `docs/synth.md` describes the model and how later benchmarks reuse it.

use std::collections::{BTreeMap, BTreeSet};

mod render;
#[cfg(test)]
mod tests;

/// The size of a synthetic site. Counts are exact, except that at least two zones are
/// generated (the backbone and one process zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynthSpec {
    pub zones: usize,
    pub assets: usize,
    pub conduits: usize,
    /// Conduit rules in total, spread evenly over the conduits.
    pub rules: usize,
    /// Files the site is split into (at least one).
    pub files: usize,
    pub seed: u64,
}

impl SynthSpec {
    /// The size every front-end benchmark uses: 200 zones, 5,000 assets, 2,000 conduits,
    /// 20,000 rules in 10 files.
    pub const BENCH: SynthSpec = SynthSpec {
        zones: 200,
        assets: 5_000,
        conduits: 2_000,
        rules: 20_000,
        files: 10,
        seed: 1,
    };
}

/// splitmix64: small, fast and good enough to vary a synthetic site.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let i = self.below(items.len());
        items.get(i)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Core,
    Enterprise,
    Operations,
    Supervisory,
    Control,
    Safety,
}

impl Level {
    /// Relative share of the assets.
    fn weight(self) -> usize {
        match self {
            Level::Safety => 1,
            Level::Control => 4,
            _ => 2,
        }
    }
    fn kinds(self) -> &'static [&'static str] {
        match self {
            Level::Core => &[
                "jump_host",
                "historian",
                "server",
                "network_device",
                "server",
                "server",
            ],
            Level::Enterprise => &["workstation", "server", "workstation", "server"],
            Level::Operations => &[
                "historian",
                "server",
                "engineering_workstation",
                "workstation",
                "hmi",
                "server",
            ],
            Level::Supervisory => &[
                "dcs_server",
                "hmi",
                "engineering_workstation",
                "hmi",
                "server",
                "historian",
            ],
            Level::Control => &["plc", "hmi", "plc", "rtu", "drive", "plc", "ied", "sensor"],
            Level::Safety => &["sis", "sis", "ied"],
        }
    }
    fn security_level(self) -> &'static str {
        match self {
            Level::Enterprise => "1",
            Level::Control => "[FR1: 3, FR2: 3, FR3: 3, FR4: 2, FR5: 3, FR6: 2, FR7: 3]",
            Level::Safety => "3",
            _ => "2",
        }
    }
    fn capability(self) -> &'static str {
        match self {
            Level::Enterprise => "1",
            Level::Control | Level::Safety => "3",
            _ => "2",
        }
    }
}

const UNITS: &[&str] = &[
    "crude",
    "vacuum",
    "reformer",
    "hydrotreater",
    "alkylation",
    "coker",
    "sulphur",
    "utilities",
    "tankfarm",
    "boiler",
    "cooling",
    "flare",
    "blending",
    "loading",
    "wastewater",
    "substation",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    External,
    Zone(usize),
}

struct ZoneM {
    name: String,
    title: String,
    level: Level,
    area: Option<usize>,
    /// First address of the zone's v4 block.
    base: u32,
    prefix: u8,
    /// The zone's v6 /64 as `fd00:5a1:N::`, for dual-stack zones.
    v6: Option<usize>,
    assets: Vec<usize>,
    /// A group of the zone's client hosts, when it has several.
    group: Option<String>,
}

#[derive(Clone, Copy)]
enum Addr {
    V4(u32),
    V4Range(u32, u32),
    V6(usize, u32),
}

struct AssetM {
    name: String,
    kind: &'static str,
    zone: usize,
    addr: Addr,
    /// The device a compensating control relies on (FR1 and FR2 below the zone's target).
    compensating: Option<(&'static str, String)>,
}

struct AreaM {
    unit: String,
    zones: Vec<usize>,
    firewall: String,
    target: &'static str,
    gateway: Option<(String, usize, usize)>,
    workorder: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Forward,
    Both,
    Diode,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ep {
    Asset(usize),
    Group(usize),
    Zone(usize),
    Any,
    Literal(String),
}

struct RuleM {
    src: Ep,
    dst: Ep,
    service: &'static str,
    fields: &'static str,
    integrity: bool,
    workorder: Option<String>,
}

struct ConduitM {
    name: String,
    from: Place,
    to: Place,
    dir: Dir,
    log: bool,
    rules: Vec<RuleM>,
}

/// A service a responder offers: its name, protocol constraints, and whether it protects
/// integrity (for data flows).
type Svc = (&'static str, &'static str, bool);

fn responder_services(kind: &str) -> &'static [Svc] {
    match kind {
        "plc" => &[
            ("modbus", "function [read_coils, read_holding_registers, read_input_registers]; unit [1]", false),
            ("modbus", "function [read_holding_registers, write_single_register, write_multiple_registers]; unit [1]; register [0-999]", false),
            ("enip", "service [get_attributes_all, get_attribute_single]", false),
            ("opcua_sign", "", true),
            ("s7comm", "", false),
        ],
        "rtu" => &[
            ("dnp3", "function [confirm, read, direct_operate, record_current_time]", false),
            ("dnp3", "function [confirm, read]", false),
            ("iec104", "", false),
        ],
        "ied" => &[("iec104", "", false), ("modbus", "function [read_holding_registers]", false), ("https", "", true)],
        "drive" => &[("enip", "service [get_attribute_single, set_attribute_single]", false), ("modbus", "function [read_holding_registers, write_single_register]", false)],
        "sensor" => &[("hart_ip", "", false), ("modbus", "function [read_input_registers]", false)],
        "sis" => &[("modbus", "function [read_holding_registers, read_input_registers]", false), ("opcua_sign", "", true)],
        "hmi" => &[("rdp", "", false), ("vnc", "", false), ("https", "", true)],
        "historian" => &[("opcua_sign", "", true), ("pi_historian", "", false), ("mqtts", "", true), ("https", "", true)],
        "dcs_server" => &[("opcua_sign_encrypt", "", true), ("https", "", true), ("opcua_sign", "", true)],
        "engineering_workstation" | "workstation" => &[("rdp", "", false), ("ssh", "", true), ("smb", "", false)],
        "jump_host" => &[("rdp", "", false), ("ssh", "", true), ("https", "", true)],
        "network_device" => &[("snmp", "", false), ("ssh", "", true)],
        _ => &[("https", "", true), ("ssh", "", true), ("syslog_tls", "", true), ("ntp", "", false), ("ldaps", "", true), ("plant_mes_api", "", true)],
    }
}

/// What a work order opens on a responder: firmware, programming and restarts.
fn maintenance_services(kind: &str) -> &'static [Svc] {
    match kind {
        "plc" | "drive" => &[
            ("s7comm", "", false),
            (
                "modbus",
                "function [write_multiple_registers, write_multiple_coils, diagnostics]",
                false,
            ),
            ("enip", "service [set_attribute_single, reset]", false),
        ],
        "rtu" => &[("dnp3", "function [cold_restart, warm_restart]", false)],
        "sis" => &[(
            "modbus",
            "function [write_single_register]; unit [1]",
            false,
        )],
        _ => &[("ssh", "", true), ("rdp", "", false), ("https", "", true)],
    }
}

const CLIENT_KINDS: &[&str] = &[
    "hmi",
    "engineering_workstation",
    "server",
    "historian",
    "dcs_server",
    "jump_host",
    "workstation",
];
const DIODE_SERVICES: &[&str] = &["syslog_udp", "snmp_trap"];
const SITE_SERVICES: &[(&str, &str)] = &[(
    "plant_mes_api",
    "service plant_mes_api \"MES REST API\" = tcp/8443 { provides [integrity, confidentiality] }",
)];

struct Model {
    zones: Vec<ZoneM>,
    assets: Vec<AssetM>,
    areas: Vec<AreaM>,
    conduits: Vec<ConduitM>,
}

impl Model {
    fn place_name(&self, p: Place) -> &str {
        match p {
            Place::External => "external",
            Place::Zone(z) => self
                .zones
                .get(z)
                .map(|z| z.name.as_str())
                .unwrap_or("external"),
        }
    }
    fn ep(&self, e: &Ep) -> String {
        match e {
            Ep::Asset(a) => self
                .assets
                .get(*a)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            Ep::Group(z) => self
                .zones
                .get(*z)
                .and_then(|z| z.group.clone())
                .unwrap_or_default(),
            Ep::Zone(z) => self.place_name(Place::Zone(*z)).to_string(),
            Ep::Any => "any".into(),
            Ep::Literal(s) => s.clone(),
        }
    }
    fn area_of(&self, p: Place) -> Option<usize> {
        match p {
            Place::Zone(z) => self.zones.get(z).and_then(|z| z.area),
            Place::External => None,
        }
    }
}

/// Generate the site: `(file name, text)` pairs, the file names relative to the site's
/// directory.
pub fn generate(spec: &SynthSpec) -> Vec<(String, String)> {
    let mut rng = Rng(spec.seed ^ 0x5A1_15AD_E000);
    let mut m = Model {
        zones: Vec::new(),
        assets: Vec::new(),
        areas: Vec::new(),
        conduits: Vec::new(),
    };
    build_zones(spec, &mut m);
    build_assets(spec, &mut rng, &mut m);
    build_conduits(spec, &mut rng, &mut m);
    render::render(spec, &m)
}

fn build_zones(spec: &SynthSpec, m: &mut Model) {
    let total = spec.zones.max(2);
    let mut levels: Vec<(Level, Option<usize>, String, String)> = vec![(
        Level::Core,
        None,
        "plant_core".into(),
        "Plant backbone and site DMZ".into(),
    )];
    if total >= 3 {
        levels.push((
            Level::Enterprise,
            None,
            "enterprise".into(),
            "Business network".into(),
        ));
    }
    let mut remaining = total - levels.len();
    let mut area = 0;
    while remaining > 0 {
        let n = remaining.min(8);
        remaining -= n;
        let unit = match UNITS.get(area % UNITS.len()) {
            Some(u) if area < UNITS.len() => u.to_string(),
            Some(u) => format!("{u}{}", area / UNITS.len() + 1),
            None => format!("area{area}"),
        };
        let roles: Vec<Level> = match n {
            1 => vec![Level::Control],
            2 => vec![Level::Supervisory, Level::Control],
            3 => vec![Level::Operations, Level::Supervisory, Level::Control],
            _ => {
                let mut v = vec![Level::Operations, Level::Supervisory];
                v.extend(std::iter::repeat_n(Level::Control, n - 3));
                v.push(Level::Safety);
                v
            }
        };
        let mut cell = 0;
        for level in roles {
            let (name, title) = match level {
                Level::Control => {
                    cell += 1;
                    (
                        format!("{unit}_cell_{cell}"),
                        format!("{unit} unit control cell {cell} (L1-2)"),
                    )
                }
                Level::Operations => (
                    format!("{unit}_ops"),
                    format!("{unit} unit operations (L3)"),
                ),
                Level::Supervisory => (
                    format!("{unit}_scada"),
                    format!("{unit} unit supervisory control (L2)"),
                ),
                _ => (
                    format!("{unit}_sis"),
                    format!("{unit} unit safety instrumented system"),
                ),
            };
            levels.push((level, Some(area), name, title));
        }
        let target = ["nftables", "iptables", "cisco_ios"]
            .get(area % 3)
            .copied()
            .unwrap_or("nftables");
        m.areas.push(AreaM {
            firewall: format!("fw_{unit}"),
            workorder: format!("{unit}_maintenance"),
            unit,
            zones: Vec::new(),
            target,
            gateway: None,
        });
        area += 1;
    }
    // Address plan: one aligned v4 block per zone in 10.0.0.0/8, large enough for the
    // biggest zone (a host range takes four addresses).
    let weights: usize = levels
        .iter()
        .map(|(l, ..)| l.weight())
        .sum::<usize>()
        .max(1);
    let biggest = levels
        .iter()
        .map(|(l, ..)| spec.assets * l.weight() / weights + 1)
        .max()
        .unwrap_or(1);
    let need = (biggest * 4 + 32).next_power_of_two().max(256);
    let prefix = 32 - need.trailing_zeros().min(24) as u8;
    for (i, (level, area, name, title)) in levels.into_iter().enumerate() {
        let base = 0x0A00_0000u32.wrapping_add(((i + 1) * need) as u32);
        let v6 = (i % 9 == 4 || level == Level::Core).then_some(i);
        if let Some(a) = area.and_then(|a| m.areas.get_mut(a)) {
            a.zones.push(i);
        }
        m.zones.push(ZoneM {
            name,
            title,
            level,
            area,
            base,
            prefix,
            v6,
            assets: Vec::new(),
            group: None,
        });
    }
    for a in &mut m.areas {
        let ctl = a
            .zones
            .iter()
            .copied()
            .find(|z| m.zones.get(*z).is_some_and(|z| z.level == Level::Control));
        let sis = a
            .zones
            .iter()
            .copied()
            .find(|z| m.zones.get(*z).is_some_and(|z| z.level == Level::Safety));
        if let (Some(c), Some(s)) = (ctl, sis) {
            a.gateway = Some((format!("gw_{}", a.unit), c, s));
        }
    }
}

fn build_assets(spec: &SynthSpec, rng: &mut Rng, m: &mut Model) {
    let weights: Vec<usize> = m.zones.iter().map(|z| z.level.weight()).collect();
    let total: usize = weights.iter().sum::<usize>().max(1);
    let mut counts: Vec<usize> = weights.iter().map(|w| spec.assets * w / total).collect();
    let mut left = spec.assets - counts.iter().sum::<usize>();
    let zones = counts.len();
    let mut i = 0;
    while left > 0 && zones > 0 {
        if let Some(c) = counts.get_mut(i % zones) {
            *c += 1;
            left -= 1;
        }
        i += 1;
    }
    for (z, count) in counts.into_iter().enumerate() {
        let Some(zone) = m.zones.get(z) else { continue };
        let (level, base, v6, zname) = (zone.level, zone.base, zone.v6, zone.name.clone());
        let gateway = zone
            .area
            .and_then(|a| m.areas.get(a))
            .and_then(|a| a.gateway.as_ref().map(|g| g.0.clone()));
        let firewall = zone
            .area
            .and_then(|a| m.areas.get(a))
            .map(|a| a.firewall.clone());
        let mut next = base + 10;
        let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
        let mut ids = Vec::new();
        for j in 0..count {
            let kind = level
                .kinds()
                .get(j % level.kinds().len())
                .copied()
                .unwrap_or("server");
            let n = per_kind.entry(kind).or_insert(0);
            *n += 1;
            let short = match kind {
                "engineering_workstation" => "ews",
                "network_device" => "net",
                "dcs_server" => "dcs",
                "jump_host" => "jump",
                "historian" => "hist",
                "workstation" => "ws",
                "server" => "srv",
                k => k,
            };
            let name = format!("{zname}_{short}_{n}");
            let addr = match v6 {
                Some(v) if j % 5 == 3 => Addr::V6(v, 0x100 + j as u32),
                _ if matches!(kind, "hmi" | "workstation") && rng.percent(30) => {
                    next += 4;
                    Addr::V4Range(next - 4, next - 1)
                }
                _ => {
                    next += 1;
                    Addr::V4(next - 1)
                }
            };
            // Some legacy controllers fall short on FR1/FR2 and lean on a device.
            let compensating = match (level, kind) {
                (Level::Safety, "sis") if j % 3 == 0 => gateway.clone().map(|g| ("gateway", g)),
                (Level::Control, "plc") if rng.percent(15) => {
                    firewall.clone().map(|f| ("firewall", f))
                }
                _ => None,
            };
            ids.push(m.assets.len());
            m.assets.push(AssetM {
                name,
                kind,
                zone: z,
                addr,
                compensating,
            });
        }
        let clients: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|a| {
                m.assets
                    .get(*a)
                    .is_some_and(|a| CLIENT_KINDS.contains(&a.kind))
            })
            .take(4)
            .collect();
        if let Some(zone) = m.zones.get_mut(z) {
            if clients.len() >= 2
                && matches!(level, Level::Operations | Level::Supervisory | Level::Core)
            {
                zone.group = Some(format!("{zname}_clients"));
            }
            zone.assets = ids;
        }
    }
}

fn clients_of(m: &Model, z: usize) -> Vec<usize> {
    let all: Vec<usize> = m.zones.get(z).map(|z| z.assets.clone()).unwrap_or_default();
    let clients: Vec<usize> = all
        .iter()
        .copied()
        .filter(|a| {
            m.assets
                .get(*a)
                .is_some_and(|a| CLIENT_KINDS.contains(&a.kind))
        })
        .collect();
    if clients.is_empty() {
        all
    } else {
        clients
    }
}

/// Pick the two zones of the next conduit and its direction.
fn pick_pair(rng: &mut Rng, m: &Model, vendor_done: bool) -> (Place, Place, Dir) {
    let core = Place::Zone(0);
    let enterprise = m
        .zones
        .iter()
        .position(|z| z.level == Level::Enterprise)
        .map(Place::Zone);
    let areas: Vec<&AreaM> = m.areas.iter().filter(|a| !a.zones.is_empty()).collect();
    let upper = |a: &AreaM| -> Vec<usize> {
        a.zones
            .iter()
            .copied()
            .filter(|z| {
                m.zones
                    .get(*z)
                    .is_some_and(|z| matches!(z.level, Level::Operations | Level::Supervisory))
            })
            .collect()
    };
    let roll = rng.below(100);
    if !vendor_done {
        return (Place::External, core, Dir::Forward);
    }
    if roll < 55 {
        if let Some(a) = rng.pick(&areas) {
            if a.zones.len() >= 2 {
                let i = rng.below(a.zones.len() - 1);
                let j = i + 1 + rng.below(a.zones.len() - 1 - i);
                if let (Some(&x), Some(&y)) = (a.zones.get(i), a.zones.get(j)) {
                    return match rng.below(100) {
                        0..=11 => (Place::Zone(y), Place::Zone(x), Dir::Diode),
                        12..=26 => (Place::Zone(x), Place::Zone(y), Dir::Both),
                        _ => (Place::Zone(x), Place::Zone(y), Dir::Forward),
                    };
                }
            }
        }
    }
    if roll < 70 && areas.len() >= 2 {
        let a = rng.below(areas.len());
        let b = (a + 1 + rng.below(areas.len() - 1)) % areas.len();
        let (ua, ub) = (
            areas.get(a).map(|x| upper(x)).unwrap_or_default(),
            areas.get(b).map(|x| upper(x)).unwrap_or_default(),
        );
        if let (Some(&x), Some(&y)) = (rng.pick(&ua), rng.pick(&ub)) {
            return (Place::Zone(x), Place::Zone(y), Dir::Forward);
        }
    }
    if roll >= 95 {
        if let Some(e) = enterprise {
            return if rng.percent(50) {
                (e, core, Dir::Both)
            } else {
                (e, core, Dir::Forward)
            };
        }
    }
    // An area's upper zone (its lowest one in an area without them) and the backbone.
    let z = match rng.pick(&areas) {
        Some(a) => {
            let up = upper(a);
            rng.pick(&up).or(a.zones.first()).copied().unwrap_or(1)
        }
        None => 1,
    };
    let z = Place::Zone(z);
    match rng.below(100) {
        0..=44 => (core, z, Dir::Forward),
        45..=89 => (z, core, Dir::Forward),
        _ => (z, core, Dir::Both),
    }
}

fn build_conduits(spec: &SynthSpec, rng: &mut Rng, m: &mut Model) {
    let mut pairs: BTreeSet<(Place, Place)> = BTreeSet::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for c in 0..spec.conduits {
        let mut pick = pick_pair(rng, m, c > 0);
        for _ in 0..30 {
            let key = (pick.0.min(pick.1), pick.0.max(pick.1));
            if !pairs.contains(&key) {
                break;
            }
            pick = pick_pair(rng, m, true);
        }
        let (from, to, dir) = pick;
        pairs.insert((from.min(to), from.max(to)));
        let base = if from == Place::External {
            "vendor_access".to_string()
        } else {
            format!("{}_to_{}", m.place_name(from), m.place_name(to))
        };
        let mut name = base.clone();
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        names.insert(name.clone());
        let count = spec.rules / spec.conduits + usize::from(c < spec.rules % spec.conduits);
        let rules = build_rules(rng, m, from, to, dir, count);
        m.conduits.push(ConduitM {
            name,
            from,
            to,
            dir,
            log: rng.percent(40),
            rules,
        });
    }
}

fn build_rules(
    rng: &mut Rng,
    m: &Model,
    from: Place,
    to: Place,
    dir: Dir,
    count: usize,
) -> Vec<RuleM> {
    let mut out: Vec<RuleM> = Vec::new();
    let mut seen: BTreeSet<(Ep, Ep, &str, &str)> = BTreeSet::new();
    for k in 0..count {
        let (sa, sb) = if dir == Dir::Both && k % 2 == 1 {
            (to, from)
        } else {
            (from, to)
        };
        let mut rule = None;
        for attempt in 0..8 {
            let r = one_rule(rng, m, sa, sb, dir, k + attempt * count);
            if !seen.contains(&(r.src.clone(), r.dst.clone(), r.service, r.fields)) {
                rule = Some(r);
                break;
            }
        }
        let r = match rule {
            Some(r) => r,
            None => one_rule(rng, m, sa, sb, dir, k),
        };
        seen.insert((r.src.clone(), r.dst.clone(), r.service, r.fields));
        out.push(r);
    }
    out
}

fn one_rule(rng: &mut Rng, m: &Model, sa: Place, sb: Place, dir: Dir, k: usize) -> RuleM {
    if sa == Place::External {
        // Vendor remote support into the backbone's jump hosts, only under a work order.
        let jump: Vec<usize> = clients_of(m, 0)
            .into_iter()
            .filter(|a| m.assets.get(*a).is_some_and(|a| a.kind == "jump_host"))
            .collect();
        let dst = rng.pick(&jump).map(|a| Ep::Asset(*a)).unwrap_or(Ep::Any);
        // One rule from the support centre's network, then single hosts of a second site.
        let src = if k == 0 {
            Ep::Literal("vendor_net".into())
        } else {
            Ep::Literal(format!("203.0.113.{}", 10 + k % 240))
        };
        let (service, _, integrity) = rng
            .pick(&[("rdp", "", false), ("ssh", "", true), ("https", "", true)])
            .copied()
            .unwrap_or(("ssh", "", true));
        return RuleM {
            src,
            dst,
            service,
            fields: "",
            integrity,
            workorder: Some("vendor_session".into()),
        };
    }
    let (Place::Zone(a), Place::Zone(b)) = (sa, sb) else {
        return RuleM {
            src: Ep::Any,
            dst: Ep::Any,
            service: "ping",
            fields: "",
            integrity: false,
            workorder: None,
        };
    };
    let clients = clients_of(m, a);
    let src = match (
        m.zones.get(a).and_then(|z| z.group.as_ref()),
        rng.below(100),
    ) {
        (Some(_), 0..=7) => Ep::Group(a),
        _ => match rng.pick(&clients) {
            Some(x) => Ep::Asset(*x),
            None => Ep::Zone(a),
        },
    };
    let targets: Vec<usize> = m.zones.get(b).map(|z| z.assets.clone()).unwrap_or_default();
    let dst_asset = targets
        .get((k * 7 + rng.below(3)) % targets.len().max(1))
        .copied();
    let dst_kind = dst_asset
        .and_then(|x| m.assets.get(x))
        .map(|x| x.kind)
        .unwrap_or("server");
    let dst = match dst_asset {
        Some(x) if rng.percent(97) => Ep::Asset(x),
        _ => Ep::Any,
    };
    if dir == Dir::Diode {
        let service = rng.pick(DIODE_SERVICES).copied().unwrap_or("syslog_udp");
        return RuleM {
            src,
            dst,
            service,
            fields: "",
            integrity: false,
            workorder: None,
        };
    }
    if dst == Ep::Any {
        return RuleM {
            src,
            dst,
            service: "monitoring",
            fields: "",
            integrity: false,
            workorder: None,
        };
    }
    // A work order of the area on either side opens maintenance access.
    let wo = m
        .area_of(sb)
        .or(m.area_of(sa))
        .and_then(|x| m.areas.get(x))
        .map(|x| x.workorder.clone());
    if let Some(wo) = wo.filter(|_| rng.percent(6)) {
        let (service, fields, integrity) = rng
            .pick(maintenance_services(dst_kind))
            .copied()
            .unwrap_or(("ssh", "", true));
        return RuleM {
            src,
            dst,
            service,
            fields,
            integrity,
            workorder: Some(wo),
        };
    }
    let (service, fields, integrity) = rng
        .pick(responder_services(dst_kind))
        .copied()
        .unwrap_or(("https", "", true));
    RuleM {
        src,
        dst,
        service,
        fields,
        integrity,
        workorder: None,
    }
}
