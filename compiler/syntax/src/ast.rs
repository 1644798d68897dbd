//! The syntax tree of a Palisade file: what was written, with byte spans, before any name is
//! resolved. Later passes (the semantic model in `palisade-compiler`) turn it into the IR.

pub use crate::lexer::{Comment, IpLit, NetLit};

/// Byte offsets `[start, end)` into one file's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntLit {
    pub value: u64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SourceFile {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Site(Site),
    Use(Use),
    Const(Const),
    Role(Role),
    Person(Person),
    Service(Service),
    Protocol(Protocol),
    Group(Group),
    Zone(Zone),
    Conduit(Conduit),
    Device(Device),
    Link(Link),
    WorkOrder(WorkOrder),
    DataFlow(DataFlow),
    Assert(Assert),
    Profile(Profile),
    /// A stretch the parser could not read; the error was reported.
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub name: StrLit,
    pub stmts: Vec<Stmt<SiteStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteStmt {
    Timezone(StrLit),
    Description(StrLit),
}

/// A statement inside a block, with its span (used to attach comments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt<T> {
    pub node: Option<T>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Use {
    /// `use std.services`
    Module(Vec<Ident>),
    /// `use "shared/common.pal"`
    File(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Const {
    pub name: Ident,
    pub value: Value,
}

/// A literal value: in constants, addresses and lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(IntLit),
    Str(StrLit),
    Ip(IpLit, Span),
    Net(NetLit, Span),
    IpRange(IpLit, IpLit, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Int(i) => i.span,
            Value::Str(s) => s.span,
            Value::Ip(_, s) | Value::Net(_, s) | Value::IpRange(_, _, s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub name: Ident,
    pub title: Option<StrLit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: StrLit,
    pub title: Option<StrLit>,
    pub stmts: Vec<Stmt<PersonStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersonStmt {
    Roles(Vec<Ident>),
    Description(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub def: ServiceDef,
    /// `None` when the service has no `{ … }` body.
    pub body: Option<Vec<Stmt<ServiceStmt>>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceDef {
    Ports(Vec<PortSpec>),
    Group(Vec<Ident>),
}

/// `tcp/502`, `tcp/1024-65535`, `icmp/3/4`, `proto/47`, `ethertype/0x8892`, `icmp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub proto: Ident,
    pub first: Option<PortNum>,
    pub last: Option<PortNum>,
    /// ICMP code after a second slash.
    pub code: Option<PortNum>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortNum {
    Int(IntLit),
    Const(Ident),
}

impl PortNum {
    pub fn span(&self) -> Span {
        match self {
            PortNum::Int(i) => i.span,
            PortNum::Const(i) => i.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceStmt {
    Inspect(Ident),
    Provides(Vec<(Property, Span)>),
    Broadcast,
    Multicast,
    Layer2,
    Description(StrLit),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    Integrity,
    Confidentiality,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protocol {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub stmts: Vec<Stmt<ProtocolStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolStmt {
    /// `function` (Modbus, DNP3) or `service` (CIP).
    pub is_service: bool,
    pub name: Ident,
    pub code: IntLit,
    pub access: Option<Ident>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: Ident,
    pub members: Vec<Endpoint>,
}

/// One side of a rule, a group member, a scope entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// An asset, zone, group or constant name (or `external`).
    Name(Ident),
    Any(Span),
    Value(Value),
}

impl Endpoint {
    pub fn span(&self) -> Span {
        match self {
            Endpoint::Name(i) => i.span,
            Endpoint::Any(s) => *s,
            Endpoint::Value(v) => v.span(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Level {
    Scalar(IntLit),
    Vector(Vec<(Ident, IntLit)>, Span),
}

impl Level {
    pub fn span(&self) -> Span {
        match self {
            Level::Scalar(i) => i.span,
            Level::Vector(_, s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub stmts: Vec<Stmt<ZoneStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneStmt {
    Description(StrLit),
    SecurityLevel(Level),
    /// A network literal or the name of a constant.
    Network(Endpoint),
    Asset(Asset),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub addr: Endpoint,
    pub body: Option<Vec<Stmt<AssetStmt>>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssetStmt {
    Kind(Ident),
    Capability(Level),
    Interface { zone: Ident, addr: Endpoint },
    Bridge(Span),
    Compensating(Vec<Stmt<CompStmt>>, Span),
    Description(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompStmt {
    Covers(Vec<Ident>),
    ReliesOn(Reliance),
    Because(StrLit),
    Owner(StrLit),
    Expires((u16, u8, u8), Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reliance {
    Gateway(Ident),
    Firewall(Ident),
    Conduit(Ident),
    Isolation(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conduit {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub from: Ident,
    pub to: Ident,
    pub bidirectional: bool,
    pub stmts: Vec<Stmt<ConduitStmt>>,
}

// Conduits hold few statements; boxing `Rule` would only complicate every pattern on it.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConduitStmt {
    SecurityLevel(Level),
    Log(Span),
    Unidirectional(Span),
    Description(StrLit),
    Allow(Rule),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub services: Vec<Ident>,
    pub constraints: Option<Vec<Stmt<Constraint>>>,
    pub when: Option<Ident>,
    pub span: Span,
}

/// `function [read_coils, 4]`, `unit [1, 3-5]`, `register [0-99]`, `service [0x0e]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub key: Ident,
    pub values: Vec<ListValue>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListValue {
    Name(Ident),
    Int(IntLit),
    Range(IntLit, IntLit),
}

impl ListValue {
    pub fn span(&self) -> Span {
        match self {
            ListValue::Name(i) => i.span,
            ListValue::Int(i) => i.span,
            ListValue::Range(a, b) => a.span.to(b.span),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Firewall,
    Gateway,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub kind: DeviceKind,
    pub name: Ident,
    pub title: Option<StrLit>,
    pub stmts: Vec<Stmt<DeviceStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceStmt {
    Target(Ident),
    Interface {
        name: StrLit,
        faces: Vec<Ident>,
    },
    Inline(Ident, Ident),
    /// `mode ips` / `mode ids` (gateways).
    Mode(Ident),
    Description(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub zones: Vec<Ident>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkOrder {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub stmts: Vec<Stmt<WorkOrderStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkOrderStmt {
    Scope(Vec<Ident>),
    RequestedBy(Vec<Ident>),
    ApprovedBy(Approval),
    SeparationOfDuties(Span),
    Prerequisite(Ident, Option<StrLit>),
    Window(Window),
    /// Conduits whose `when workorder` rules this order opens (a cross-check).
    Opens(Vec<Ident>),
    MaxDuration(u64, Span),
    Emergency(Span),
    ReviewAfter(u64, Span),
    Description(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Approval {
    /// `a and b and c`: one distinct person per role.
    AllOf(Vec<Ident>),
    /// `2 of [a, b, c]`: that many distinct persons, each holding one of the roles.
    NOf(IntLit, Vec<Ident>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Day ranges: `Mon-Fri` is `(Mon, Some(Fri))`, `Sat` is `(Sat, None)`.
    pub days: Vec<(Ident, Option<Ident>)>,
    pub from: u32,
    pub to: u32,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopMode {
    Push,
    Pull,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFlow {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub first: Ident,
    /// Each hop's destination and its declared direction.
    pub hops: Vec<(Ident, Option<HopMode>)>,
    pub stmts: Vec<Stmt<DataFlowStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataFlowStmt {
    Requires(Property, Span),
    Description(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assert {
    pub property: AssertProperty,
    pub scope: Option<AssertScope>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssertProperty {
    NoPath(Ident, Ident),
    OnlyVia(Ident, Ident, Ident),
    Isolated(Ident),
    Reachable(Ident, Ident, Option<Ident>),
    SecurityLevel(Ident),
    Approvals(Ident),
    DataFlow(Ident),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssertScope {
    InBase(Span),
    During(Ident),
    ExceptDuring(Ident),
}

/// `profile default { require no_broad_rules { min_level 3 }; disable inspected_writes }`:
/// the site-wide rules every site is checked against (the standard library declares the
/// Palisade default profile; a site's own `profile` items adjust it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub stmts: Vec<Stmt<ProfileStmt>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileStmt {
    Require {
        check: Ident,
        params: Vec<Stmt<ProfileParam>>,
    },
    Disable(Ident),
    Description(StrLit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileParam {
    pub name: Ident,
    pub value: ParamValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValue {
    Int(IntLit),
    Duration(u64, Span),
    Names(Vec<Ident>),
}
