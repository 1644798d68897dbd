//! The policy IR: the resolved site, every name turned into an id, every address into ranges,
//! spans kept for diagnostics. Targets and the verifier read only this.
//!
//! Versioned: `ir_version` changes whenever a field changes meaning. Serialized with serde
//! (`palisade ir FILE` prints it as JSON).

use crate::address::{AddrRange, Cidr};
use crate::diagnostic::Location;
use serde::{Deserialize, Serialize};

pub const IR_VERSION: u32 = 1;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}
id_type!(
    ZoneId,
    AssetId,
    ServiceId,
    RoleId,
    PersonId,
    GroupId,
    ConduitId,
    RuleId,
    DeviceId,
    LinkId,
    WorkOrderId,
    DataFlowId
);

/// Where something was written: `file` indexes [`Policy::sources`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub ir_version: u32,
    pub site: SiteInfo,
    pub sources: Vec<SourceInfo>,
    pub roles: Vec<Role>,
    pub persons: Vec<Person>,
    pub protocols: Vec<Protocol>,
    pub services: Vec<Service>,
    pub groups: Vec<Group>,
    /// `zones[0]` is the built-in `external` zone.
    pub zones: Vec<Zone>,
    pub assets: Vec<Asset>,
    pub conduits: Vec<Conduit>,
    /// Every rule of every conduit, in conduit order; `Conduit::rules` indexes this.
    pub rules: Vec<Rule>,
    pub devices: Vec<Device>,
    pub links: Vec<Link>,
    pub workorders: Vec<WorkOrder>,
    pub dataflows: Vec<DataFlow>,
    pub assertions: Vec<Assertion>,
    /// The profile's checks after merging the standard profile with the site's adjustments.
    pub profile: Vec<ProfileCheck>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCheck {
    /// One of `profile::KNOWN_CHECKS`.
    pub name: String,
    pub enabled: bool,
    pub params: std::collections::BTreeMap<String, ProfileParam>,
    /// Where it was last required or disabled.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProfileParam {
    /// A level, or a duration in seconds.
    Int(u64),
    Names(Vec<String>),
}

impl ProfileCheck {
    pub fn int(&self, name: &str) -> Option<u64> {
        match self.params.get(name) {
            Some(ProfileParam::Int(v)) => Some(*v),
            _ => None,
        }
    }
    pub fn names(&self, name: &str) -> &[String] {
        match self.params.get(name) {
            Some(ProfileParam::Names(v)) => v,
            _ => &[],
        }
    }
}

pub const EXTERNAL: ZoneId = ZoneId(0);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub name: String,
    pub timezone: String,
    pub description: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub path: String,
    /// SHA-256 of the file's text, hex.
    pub sha256: String,
    /// Part of the embedded standard library.
    pub std: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub title: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub title: Option<String>,
    pub roles: Vec<RoleId>,
    pub span: Span,
}

/// The field families a gateway can inspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolFamily {
    Modbus,
    Dnp3,
    Cip,
}

impl ProtocolFamily {
    pub fn from_name(name: &str) -> Option<ProtocolFamily> {
        match name {
            "modbus" => Some(ProtocolFamily::Modbus),
            "dnp3" => Some(ProtocolFamily::Dnp3),
            "cip" => Some(ProtocolFamily::Cip),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ProtocolFamily::Modbus => "modbus",
            ProtocolFamily::Dnp3 => "dnp3",
            ProtocolFamily::Cip => "cip",
        }
    }
    /// The constraint keys a rule may use with this family.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            ProtocolFamily::Modbus => &["function", "unit", "register"],
            ProtocolFamily::Dnp3 => &["function"],
            ProtocolFamily::Cip => &["service"],
        }
    }
    /// Largest code of a function (Modbus, DNP3: one byte; CIP service: 7 bits).
    pub fn max_code(self) -> u64 {
        match self {
            ProtocolFamily::Modbus | ProtocolFamily::Dnp3 => 255,
            ProtocolFamily::Cip => 127,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
    Diagnostic,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    pub family: ProtocolFamily,
    pub title: Option<String>,
    pub functions: Vec<ProtocolFunction>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolFunction {
    pub name: String,
    pub code: u8,
    pub access: Access,
    pub span: Span,
}

/// What one port spec of a service matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "proto", rename_all = "lowercase")]
pub enum Transport {
    Tcp {
        lo: u16,
        hi: u16,
    },
    Udp {
        lo: u16,
        hi: u16,
    },
    Icmp {
        icmp_type: Option<u8>,
        code: Option<u8>,
    },
    Icmpv6 {
        icmp_type: Option<u8>,
        code: Option<u8>,
    },
    /// Any packet of this IP protocol number.
    Ip {
        number: u8,
    },
    /// A layer-2 frame type; never routed.
    Ethertype {
        value: u16,
    },
}

impl Transport {
    /// Connection-oriented: replies flow back, so it cannot cross a diode.
    pub fn is_connection(self) -> bool {
        matches!(self, Transport::Tcp { .. }) || matches!(self, Transport::Ip { number: 6 })
    }
    pub fn is_layer2(self) -> bool {
        matches!(self, Transport::Ethertype { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub title: Option<String>,
    /// Every port spec, a group's members flattened in.
    pub transports: Vec<Transport>,
    /// Set for a service group: its direct members.
    pub members: Vec<ServiceId>,
    pub inspect: Option<ProtocolFamily>,
    pub integrity: bool,
    pub confidentiality: bool,
    pub broadcast: bool,
    pub multicast: bool,
    pub layer2: bool,
    pub std: bool,
    pub span: Span,
}

impl Service {
    /// Cannot cross a routed conduit (layer 2, broadcast or multicast).
    pub fn is_local_only(&self) -> bool {
        self.layer2
            || self.broadcast
            || self.multicast
            || self.transports.iter().any(|t| t.is_layer2())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub members: Vec<Endpoint>,
    pub addrs: Vec<AddrRange>,
    pub span: Span,
}

/// A security-level vector over FR1..FR7.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub struct SlVector(pub [u8; 7]);

impl SlVector {
    pub fn scalar(level: u8) -> SlVector {
        SlVector([level; 7])
    }
    pub fn get(&self, fr: usize) -> u8 {
        self.0.get(fr).copied().unwrap_or(0)
    }
}

impl std::fmt::Display for SlVector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.iter().all(|l| *l == self.0[0]) {
            return write!(f, "{}", self.0[0]);
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, l)| format!("FR{}: {l}", i + 1))
            .collect();
        write!(f, "[{}]", parts.join(", "))
    }
}

pub const FR_NAMES: [&str; 7] = ["FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Target security level SL-T (`external` is 0).
    pub security_level: SlVector,
    pub networks: Vec<Cidr>,
    pub assets: Vec<AssetId>,
    pub builtin: bool,
    pub span: Span,
    /// Where each of `networks` is written, for diagnostics about one network (overlaps,
    /// reserved ranges). Not part of the IR's JSON.
    #[serde(skip)]
    pub network_spans: Vec<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub zone: ZoneId,
    pub addr: AddrRange,
    pub kind: Option<String>,
    /// SL-C; `None` when not declared (treated as 0 by the verifier).
    pub capability: Option<SlVector>,
    /// Further interfaces, each in another zone.
    pub interfaces: Vec<AssetInterface>,
    pub bridge: bool,
    pub compensating: Vec<CompensatingControl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetInterface {
    pub zone: ZoneId,
    pub addr: AddrRange,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensatingControl {
    /// FR indexes 0..7.
    pub covers: Vec<u8>,
    pub relies_on: Option<Reliance>,
    pub because: Option<String>,
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Reliance {
    Gateway(DeviceId),
    Firewall(DeviceId),
    Conduit(ConduitId),
    Isolation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conduit {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub from: ZoneId,
    pub to: ZoneId,
    /// Declared with `<->`: rules may go either way.
    pub bidirectional: bool,
    pub unidirectional: bool,
    pub log: bool,
    pub security_level: Option<SlVector>,
    pub rules: Vec<RuleId>,
    pub span: Span,
}

/// What a rule endpoint names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum EndpointRef {
    Asset(AssetId),
    Zone(ZoneId),
    Group(GroupId),
    /// A network, address or range written in place (or through a constant).
    Literal,
    /// Every address of that side's zone.
    Any,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// As written, for messages and comments in outputs.
    pub label: String,
    pub target: EndpointRef,
    /// The addresses, merged and sorted.
    pub addrs: Vec<AddrRange>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub conduit: ConduitId,
    /// Position within its conduit (0-based).
    pub index: u32,
    /// Zones of source and destination (for `<->` conduits, the direction this rule goes).
    pub from: ZoneId,
    pub to: ZoneId,
    pub src: Endpoint,
    pub dst: Endpoint,
    /// The services named, groups kept as written.
    pub services: Vec<ServiceId>,
    pub fields: Option<FieldConstraints>,
    pub workorder: Option<WorkOrderId>,
    pub span: Span,
}

/// Protocol-field constraints of one rule. Empty lists mean "not constrained".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConstraints {
    pub family: ProtocolFamily,
    /// Function codes (Modbus, DNP3) or CIP service codes, with their catalogue names.
    pub functions: Vec<NamedCode>,
    pub units: Vec<(u16, u16)>,
    pub registers: Vec<(u16, u16)>,
    pub span: Span,
}

/// CIP 0x52: Read Tag Fragmented, and on the Connection Manager Unconnected Send, which
/// carries any other service inside it.
pub const CIP_UNCONNECTED_SEND: u8 = 0x52;

impl FieldConstraints {
    /// Whether the allowed functions include one that encapsulates any other request (CIP
    /// Unconnected Send): a gateway matching the outer code admits every inner request, so
    /// the proofs count the rule as allowing every function.
    pub fn admits_every_function(&self) -> bool {
        self.family == ProtocolFamily::Cip
            && self
                .functions
                .iter()
                .any(|c| c.code == CIP_UNCONNECTED_SEND)
    }

    /// The function restriction the proofs use: empty (every function) when an allowed
    /// function can carry any other.
    pub fn enforced_functions(&self) -> &[NamedCode] {
        if self.admits_every_function() {
            &[]
        } else {
            &self.functions
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCode {
    pub code: u8,
    pub name: Option<String>,
    pub access: Option<Access>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Firewall,
    Gateway,
}

/// What an inline gateway does with what it inspects (`mode ips` / `mode ids`). One decision,
/// in the model: the proofs and the emitted rules both follow it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum GatewayMode {
    /// A complete allowlist of its boundary: admitted flows at port and field level pass,
    /// everything else is dropped. The default for a gateway without `mode`.
    #[default]
    Ips,
    /// Monitors only: alerts on what the conduits forbid and enforces nothing, so the proofs
    /// treat it as an unfiltered crossing.
    Ids,
}

impl GatewayMode {
    pub fn name(self) -> &'static str {
        match self {
            GatewayMode::Ips => "ips",
            GatewayMode::Ids => "ids",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Nftables,
    Iptables,
    CiscoIos,
    Suricata,
    AllowlistJson,
}

impl Target {
    pub fn from_name(name: &str) -> Option<Target> {
        match name {
            "nftables" => Some(Target::Nftables),
            "iptables" => Some(Target::Iptables),
            "cisco_ios" => Some(Target::CiscoIos),
            "suricata" => Some(Target::Suricata),
            "allowlist_json" => Some(Target::AllowlistJson),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Target::Nftables => "nftables",
            Target::Iptables => "iptables",
            Target::CiscoIos => "cisco_ios",
            Target::Suricata => "suricata",
            Target::AllowlistJson => "allowlist_json",
        }
    }
    pub fn fits(self, kind: DeviceKind) -> bool {
        match kind {
            DeviceKind::Firewall => {
                matches!(self, Target::Nftables | Target::Iptables | Target::CiscoIos)
            }
            DeviceKind::Gateway => matches!(self, Target::Suricata | Target::AllowlistJson),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: DeviceKind,
    pub target: Option<Target>,
    /// For `inline between A and B` two interfaces are synthesised, named after the zones.
    pub interfaces: Vec<DeviceInterface>,
    pub inline: bool,
    /// For gateways: IPS (enforces) or IDS (monitors). Firewalls always enforce.
    #[serde(default)]
    pub mode: GatewayMode,
    pub span: Span,
}

impl Device {
    /// Whether traffic through this device is filtered (ports and addresses): every firewall
    /// and every gateway in IPS mode. An IDS gateway filters nothing.
    pub fn filters(&self) -> bool {
        self.kind == DeviceKind::Firewall || self.mode == GatewayMode::Ips
    }
    /// Whether this device enforces protocol fields: a gateway in IPS mode.
    pub fn inspects(&self) -> bool {
        self.kind == DeviceKind::Gateway && self.mode == GatewayMode::Ips
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInterface {
    pub name: String,
    pub faces: Vec<ZoneId>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    pub title: Option<String>,
    pub zones: Vec<ZoneId>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum ScopeItem {
    Zone(ZoneId),
    Asset(AssetId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Approval {
    /// One distinct person per role.
    AllOf { roles: Vec<RoleId> },
    /// `n` distinct persons, each holding one of the roles.
    NOf { n: u32, roles: Vec<RoleId> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Monday = 0 … Sunday = 6.
    pub days: Vec<u8>,
    /// Minutes since midnight, site time zone; `to` may be 1440.
    pub from: u32,
    pub to: u32,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prerequisite {
    pub name: String,
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub scope: Vec<ScopeItem>,
    pub requested_by: Vec<RoleId>,
    pub approvals: Vec<Approval>,
    pub separation_of_duties: bool,
    pub prerequisites: Vec<Prerequisite>,
    pub windows: Vec<TimeWindow>,
    /// Seconds.
    pub max_duration: Option<u64>,
    pub emergency: bool,
    /// Seconds after closing by which the review must happen.
    pub review_after: Option<u64>,
    pub opens: Vec<ConduitId>,
    /// Every rule under `when workorder` naming this order.
    pub rules: Vec<RuleId>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HopMode {
    Push,
    Pull,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub from: AssetId,
    pub to: AssetId,
    pub mode: Option<HopMode>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFlow {
    pub name: String,
    pub title: Option<String>,
    pub hops: Vec<Hop>,
    pub integrity: bool,
    pub confidentiality: bool,
    pub span: Span,
}

/// A zone or an asset named in an assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Place {
    Zone(ZoneId),
    Asset(AssetId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Via {
    Device(DeviceId),
    Conduit(ConduitId),
    Asset(AssetId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "property", rename_all = "snake_case")]
pub enum Property {
    NoPath {
        from: Place,
        to: Place,
    },
    OnlyVia {
        via: Via,
        from: Place,
        to: Place,
    },
    Isolated {
        zone: Place,
    },
    Reachable {
        from: Place,
        to: Place,
        service: Option<ServiceId>,
    },
    SecurityLevel {
        zone: ZoneId,
    },
    Approvals {
        workorder: WorkOrderId,
    },
    DataFlow {
        dataflow: DataFlowId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "workorder", rename_all = "snake_case")]
pub enum Scenario {
    /// Every scenario: base, each work order, all together.
    All,
    InBase,
    During(WorkOrderId),
    ExceptDuring(WorkOrderId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    /// The assertion as written, for reports.
    pub text: String,
    pub property: Property,
    pub scenario: Scenario,
    pub span: Span,
}

impl Policy {
    /// The addresses of a work order's scope (its zones' networks, its assets' addresses),
    /// merged. An instance of the order opens its rules only for packets with one end here.
    pub fn scope_addrs(&self, w: WorkOrderId) -> Vec<AddrRange> {
        let Some(wo) = self.workorder(w) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in &wo.scope {
            match item {
                ScopeItem::Zone(z) => {
                    if let Some(z) = self.zone(*z) {
                        out.extend(z.networks.iter().map(|n| n.range()));
                    }
                }
                ScopeItem::Asset(a) => {
                    if let Some(a) = self.asset(*a) {
                        out.push(a.addr);
                        out.extend(a.interfaces.iter().map(|i| i.addr));
                    }
                }
            }
        }
        crate::address::merge(out)
    }

    pub fn location(&self, span: Span) -> Location {
        Location {
            file: self
                .sources
                .get(span.file as usize)
                .map(|s| s.path.clone())
                .unwrap_or_default(),
            start: span.start,
            end: span.end,
        }
    }
    /// The enabled profile check of that name.
    pub fn profile_check(&self, name: &str) -> Option<&ProfileCheck> {
        self.profile.iter().find(|c| c.name == name && c.enabled)
    }
    pub fn zone(&self, id: ZoneId) -> Option<&Zone> {
        self.zones.get(id.index())
    }
    pub fn zone_name(&self, id: ZoneId) -> &str {
        self.zone(id).map(|z| z.name.as_str()).unwrap_or("?")
    }
    pub fn asset(&self, id: AssetId) -> Option<&Asset> {
        self.assets.get(id.index())
    }
    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(id.index())
    }
    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.get(id.index())
    }
    pub fn conduit(&self, id: ConduitId) -> Option<&Conduit> {
        self.conduits.get(id.index())
    }
    pub fn device(&self, id: DeviceId) -> Option<&Device> {
        self.devices.get(id.index())
    }
    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.get(id.index())
    }
    pub fn workorder(&self, id: WorkOrderId) -> Option<&WorkOrder> {
        self.workorders.get(id.index())
    }
    /// The zone that owns an address (`external` when none does).
    pub fn zone_of(&self, addr: AddrRange) -> ZoneId {
        self.zones
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, z)| z.networks.iter().any(|n| n.range().contains(&addr)))
            .map(|(i, _)| ZoneId(i as u32))
            .unwrap_or(EXTERNAL)
    }
    /// Services a rule matches, groups expanded (each leaf once, in order).
    pub fn leaf_services(&self, ids: &[ServiceId]) -> Vec<ServiceId> {
        let mut out = Vec::new();
        let mut stack: Vec<ServiceId> = ids.iter().rev().copied().collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            match self.service(id) {
                Some(s) if !s.members.is_empty() => stack.extend(s.members.iter().rev().copied()),
                Some(_) => out.push(id),
                None => {}
            }
        }
        out
    }
}
