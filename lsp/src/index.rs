//! Where names are written: every definition and every reference of a file, and the site's
//! table of which definition each name resolves to. Both are salsa queries over the
//! compiler's own `parsed` trees, so an edit recomputes only the edited file's index.
//!
//! Palisade has one namespace per site (a site file shadows the standard library's item of
//! the same name; otherwise the first definition wins, as in lowering), plus one namespace
//! of function names per protocol catalogue.

use palisade_compiler::db::{parsed, Site, SourceFile};
use palisade_syntax::ast::{self, Endpoint, Ident, ItemKind, Stmt};
use std::collections::BTreeMap;

/// What a name stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    Const,
    Role,
    Service,
    Group,
    Zone,
    Asset,
    Conduit,
    Firewall,
    Gateway,
    Link,
    WorkOrder,
    DataFlow,
    /// A protocol catalogue entry (Modbus/DNP3 function, CIP service).
    Function,
}

impl SymbolKind {
    pub fn describe(self) -> &'static str {
        match self {
            SymbolKind::Const => "constant",
            SymbolKind::Role => "role",
            SymbolKind::Service => "service",
            SymbolKind::Group => "group",
            SymbolKind::Zone => "zone",
            SymbolKind::Asset => "asset",
            SymbolKind::Conduit => "conduit",
            SymbolKind::Firewall => "firewall",
            SymbolKind::Gateway => "gateway",
            SymbolKind::Link => "link",
            SymbolKind::WorkOrder => "work order",
            SymbolKind::DataFlow => "data flow",
            SymbolKind::Function => "protocol function",
        }
    }
}

use SymbolKind as K;

const ENDPOINT: &[K] = &[K::Asset, K::Zone, K::Group, K::Const];
const PLACE: &[K] = &[K::Zone, K::Asset];
const VIA: &[K] = &[K::Firewall, K::Gateway, K::Conduit, K::Asset];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Definition(SymbolKind),
    /// A use of a site-wide name, with the kinds the position accepts.
    Reference(&'static [SymbolKind]),
    /// A catalogue entry of the protocol family named.
    FunctionDefinition(String),
    /// A function or CIP service named in a rule's protocol constraints.
    FunctionReference,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub name: String,
    pub span: ast::Span,
    pub role: Role,
}

impl Occurrence {
    pub fn is_definition(&self) -> bool {
        matches!(self.role, Role::Definition(_) | Role::FunctionDefinition(_))
    }
}

/// Every name written in one file, ordered by position.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FileIndex {
    pub occurrences: Vec<Occurrence>,
}

impl FileIndex {
    /// The name under (or just before) a byte offset.
    pub fn at(&self, offset: u32) -> Option<&Occurrence> {
        let i = self.occurrences.partition_point(|o| o.span.end < offset);
        self.occurrences
            .get(i)
            .filter(|o| o.span.start <= offset && offset <= o.span.end)
    }
}

#[salsa::tracked(returns(ref))]
pub fn file_index(db: &dyn salsa::Database, file: SourceFile) -> FileIndex {
    let mut w = Walker::default();
    for item in &parsed(db, file).file.items {
        w.item(item);
    }
    let mut occurrences = w.out;
    occurrences.sort_by_key(|o| (o.span.start, o.span.end));
    occurrences.dedup_by_key(|o| o.span);
    FileIndex { occurrences }
}

/// The definition a site-wide name resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub kind: SymbolKind,
    pub file: SourceFile,
    /// Position of `file` in the site's files (what IR spans call `file`).
    pub file_index: u32,
    pub span: ast::Span,
    pub std: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SiteSymbols {
    pub globals: BTreeMap<String, Definition>,
    /// Every definition of every name, duplicates and shadowed ones included.
    pub all: Vec<Definition>,
}

#[salsa::tracked(returns(ref))]
pub fn site_symbols(db: &dyn salsa::Database, site: Site) -> SiteSymbols {
    let mut out = SiteSymbols::default();
    for (i, file) in site.files(db).iter().enumerate() {
        let std = *file.std(db);
        for o in &file_index(db, *file).occurrences {
            let Role::Definition(kind) = o.role else {
                continue;
            };
            let def = Definition {
                name: o.name.clone(),
                kind,
                file: *file,
                file_index: u32::try_from(i).unwrap_or(u32::MAX),
                span: o.span,
                std,
            };
            // The same rule as lowering: a site file shadows the standard library; among
            // equals the first definition wins (the second is reported as a duplicate).
            let replace = match out.globals.get(&o.name) {
                None => true,
                Some(prev) => prev.std && !std,
            };
            if replace {
                out.globals.insert(o.name.clone(), def.clone());
            }
            out.all.push(def);
        }
    }
    out
}

#[derive(Default)]
struct Walker {
    out: Vec<Occurrence>,
}

fn stmts<T>(v: &[Stmt<T>]) -> impl Iterator<Item = &T> {
    v.iter().filter_map(|s| s.node.as_ref())
}

impl Walker {
    fn def(&mut self, kind: SymbolKind, name: &Ident) {
        self.push(name, Role::Definition(kind));
    }

    fn refer(&mut self, kinds: &'static [SymbolKind], name: &Ident) {
        // `external` is the built-in zone, never declared; it is still a reference.
        self.push(name, Role::Reference(kinds));
    }

    fn push(&mut self, name: &Ident, role: Role) {
        if name.name.is_empty() || name.span.start >= name.span.end {
            return;
        }
        self.out.push(Occurrence {
            name: name.name.clone(),
            span: name.span,
            role,
        });
    }

    fn endpoint(&mut self, kinds: &'static [SymbolKind], ep: &Endpoint) {
        if let Endpoint::Name(n) = ep {
            self.refer(kinds, n);
        }
    }

    fn item(&mut self, item: &ast::Item) {
        match &item.kind {
            ItemKind::Const(c) => self.def(K::Const, &c.name),
            ItemKind::Role(r) => self.def(K::Role, &r.name),
            ItemKind::Person(p) => {
                for s in stmts(&p.stmts) {
                    if let ast::PersonStmt::Roles(roles) = s {
                        roles.iter().for_each(|r| self.refer(&[K::Role], r));
                    }
                }
            }
            ItemKind::Service(s) => self.service(s),
            ItemKind::Protocol(p) => {
                for s in stmts(&p.stmts) {
                    self.push(&s.name, Role::FunctionDefinition(p.name.name.clone()));
                }
            }
            ItemKind::Group(g) => {
                self.def(K::Group, &g.name);
                g.members.iter().for_each(|m| self.endpoint(ENDPOINT, m));
            }
            ItemKind::Zone(z) => self.zone(z),
            ItemKind::Conduit(c) => self.conduit(c),
            ItemKind::Device(d) => {
                let kind = match d.kind {
                    ast::DeviceKind::Firewall => K::Firewall,
                    ast::DeviceKind::Gateway => K::Gateway,
                };
                self.def(kind, &d.name);
                for s in stmts(&d.stmts) {
                    match s {
                        ast::DeviceStmt::Interface { faces, .. } => {
                            faces.iter().for_each(|z| self.refer(&[K::Zone], z))
                        }
                        ast::DeviceStmt::Inline(a, b) => {
                            self.refer(&[K::Zone], a);
                            self.refer(&[K::Zone], b);
                        }
                        _ => {}
                    }
                }
            }
            ItemKind::Link(l) => {
                self.def(K::Link, &l.name);
                l.zones.iter().for_each(|z| self.refer(&[K::Zone], z));
            }
            ItemKind::WorkOrder(w) => self.workorder(w),
            ItemKind::DataFlow(d) => {
                self.def(K::DataFlow, &d.name);
                self.refer(&[K::Asset], &d.first);
                d.hops.iter().for_each(|(h, _)| self.refer(&[K::Asset], h));
            }
            ItemKind::Assert(a) => self.assert(a),
            ItemKind::Profile(p) => {
                // A profile check's role lists (`safety_roles [...]`) name the site's roles.
                for s in stmts(&p.stmts) {
                    if let ast::ProfileStmt::Require { params, .. } = s {
                        for param in stmts(params) {
                            if let ast::ParamValue::Names(names) = &param.value {
                                if param.name.name.ends_with("roles") {
                                    names.iter().for_each(|n| self.refer(&[K::Role], n));
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn service(&mut self, s: &ast::Service) {
        self.def(K::Service, &s.name);
        match &s.def {
            ast::ServiceDef::Group(members) => {
                members.iter().for_each(|m| self.refer(&[K::Service], m))
            }
            ast::ServiceDef::Ports(ports) => {
                for p in ports {
                    for n in [&p.first, &p.last, &p.code].into_iter().flatten() {
                        if let ast::PortNum::Const(c) = n {
                            self.refer(&[K::Const], c);
                        }
                    }
                }
            }
        }
    }

    fn zone(&mut self, z: &ast::Zone) {
        self.def(K::Zone, &z.name);
        for s in stmts(&z.stmts) {
            match s {
                ast::ZoneStmt::Network(ep) => self.endpoint(&[K::Const], ep),
                ast::ZoneStmt::Asset(a) => {
                    self.def(K::Asset, &a.name);
                    self.endpoint(&[K::Const], &a.addr);
                    for s in a.body.iter().flat_map(|b| stmts(b)) {
                        match s {
                            ast::AssetStmt::Interface { zone, addr } => {
                                self.refer(&[K::Zone], zone);
                                self.endpoint(&[K::Const], addr);
                            }
                            ast::AssetStmt::Compensating(body, _) => {
                                for c in stmts(body) {
                                    match c {
                                        ast::CompStmt::ReliesOn(ast::Reliance::Gateway(g)) => {
                                            self.refer(&[K::Gateway], g)
                                        }
                                        ast::CompStmt::ReliesOn(ast::Reliance::Firewall(f)) => {
                                            self.refer(&[K::Firewall], f)
                                        }
                                        ast::CompStmt::ReliesOn(ast::Reliance::Conduit(c)) => {
                                            self.refer(&[K::Conduit], c)
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn conduit(&mut self, c: &ast::Conduit) {
        self.def(K::Conduit, &c.name);
        self.refer(&[K::Zone], &c.from);
        self.refer(&[K::Zone], &c.to);
        for s in stmts(&c.stmts) {
            if let ast::ConduitStmt::Allow(rule) = s {
                self.endpoint(ENDPOINT, &rule.src);
                self.endpoint(ENDPOINT, &rule.dst);
                rule.services
                    .iter()
                    .for_each(|s| self.refer(&[K::Service], s));
                for c in rule.constraints.iter().flat_map(|cs| stmts(cs)) {
                    if matches!(c.key.name.as_str(), "function" | "service") {
                        for v in &c.values {
                            if let ast::ListValue::Name(n) = v {
                                self.push(n, Role::FunctionReference);
                            }
                        }
                    }
                }
                if let Some(w) = &rule.when {
                    self.refer(&[K::WorkOrder], w);
                }
            }
        }
    }

    fn workorder(&mut self, w: &ast::WorkOrder) {
        self.def(K::WorkOrder, &w.name);
        for s in stmts(&w.stmts) {
            match s {
                ast::WorkOrderStmt::Scope(names) => names.iter().for_each(|n| self.refer(PLACE, n)),
                ast::WorkOrderStmt::RequestedBy(roles) => {
                    roles.iter().for_each(|r| self.refer(&[K::Role], r))
                }
                ast::WorkOrderStmt::ApprovedBy(
                    ast::Approval::AllOf(roles) | ast::Approval::NOf(_, roles),
                ) => roles.iter().for_each(|r| self.refer(&[K::Role], r)),
                ast::WorkOrderStmt::Opens(conduits) => {
                    conduits.iter().for_each(|c| self.refer(&[K::Conduit], c))
                }
                _ => {}
            }
        }
    }

    fn assert(&mut self, a: &ast::Assert) {
        match &a.property {
            ast::AssertProperty::NoPath(x, y) => {
                self.refer(PLACE, x);
                self.refer(PLACE, y);
            }
            ast::AssertProperty::OnlyVia(v, x, y) => {
                self.refer(VIA, v);
                self.refer(PLACE, x);
                self.refer(PLACE, y);
            }
            ast::AssertProperty::Isolated(z) => self.refer(PLACE, z),
            ast::AssertProperty::Reachable(x, y, s) => {
                self.refer(PLACE, x);
                self.refer(PLACE, y);
                if let Some(s) = s {
                    self.refer(&[K::Service], s);
                }
            }
            ast::AssertProperty::SecurityLevel(z) => self.refer(&[K::Zone], z),
            ast::AssertProperty::Approvals(w) => self.refer(&[K::WorkOrder], w),
            ast::AssertProperty::DataFlow(d) => self.refer(&[K::DataFlow], d),
        }
        if let Some(ast::AssertScope::During(w) | ast::AssertScope::ExceptDuring(w)) = &a.scope {
            self.refer(&[K::WorkOrder], w);
        }
    }
}
