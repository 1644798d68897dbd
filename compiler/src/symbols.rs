//! The site's names: which items declare a name, which definition of a name wins, and where
//! every name of a file is written. Lowering declares with [`item_declarations`] and
//! [`outcome`]; the language server reads the same facts through the salsa queries
//! [`file_index`] (one file's definitions and references) and [`site_symbols`] (the
//! definition each site-wide name resolves to), so the two cannot disagree on a name.
//!
//! Palisade has one namespace per site (a site file shadows the standard library's item of
//! the same name; otherwise the first definition wins and a second one is a duplicate), plus
//! one namespace of function names per protocol catalogue.

use crate::db::{parsed, Site, SourceFile};
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
    /// A protocol catalogue entry (Modbus/DNP3 function, CIP service): named per catalogue,
    /// never declared in the site's namespace.
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

/// The built-in zone: it stands for every address no declared zone owns, so a `zone` item
/// of this name declares nothing (lowering reports it).
pub const BUILTIN_ZONE: &str = "external";

// ------------------------------------------------------------------ declarations

/// A name that an item enters into the site's namespace.
#[derive(Clone, Copy, Debug)]
pub struct Declaration<'a> {
    pub kind: SymbolKind,
    pub name: &'a Ident,
}

/// The names one item declares, in order: the item's own, then (for a zone) its assets'.
/// Items without a site-wide name (site, person, protocol, assertion, profile …) declare
/// nothing, and neither does a `zone external` (the zone is built in).
pub fn item_declarations(item: &ast::Item) -> impl Iterator<Item = Declaration<'_>> {
    let own = |kind, name| Some(Declaration { kind, name });
    let (own, zone_stmts): (_, &[Stmt<ast::ZoneStmt>]) = match &item.kind {
        ItemKind::Const(c) => (own(K::Const, &c.name), &[]),
        ItemKind::Role(r) => (own(K::Role, &r.name), &[]),
        ItemKind::Service(s) => (own(K::Service, &s.name), &[]),
        ItemKind::Group(g) => (own(K::Group, &g.name), &[]),
        ItemKind::Zone(z) if z.name.name == BUILTIN_ZONE => (None, &[]),
        ItemKind::Zone(z) => (own(K::Zone, &z.name), &z.stmts),
        ItemKind::Conduit(c) => (own(K::Conduit, &c.name), &[]),
        ItemKind::Device(d) => {
            let kind = match d.kind {
                ast::DeviceKind::Firewall => K::Firewall,
                ast::DeviceKind::Gateway => K::Gateway,
            };
            (own(kind, &d.name), &[])
        }
        ItemKind::Link(l) => (own(K::Link, &l.name), &[]),
        ItemKind::WorkOrder(w) => (own(K::WorkOrder, &w.name), &[]),
        ItemKind::DataFlow(d) => (own(K::DataFlow, &d.name), &[]),
        _ => (None, &[]),
    };
    let assets = stmts(zone_stmts).filter_map(|s| match s {
        ast::ZoneStmt::Asset(a) => Some(Declaration {
            kind: K::Asset,
            name: &a.name,
        }),
        _ => None,
    });
    own.into_iter().chain(assets)
}

/// Every name one file declares, in declaration order (the order ids are handed out in).
pub fn declarations(file: &ast::SourceFile) -> impl Iterator<Item = Declaration<'_>> {
    file.items.iter().flat_map(item_declarations)
}

/// What a new definition of a name does, given the definition the site holds so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The name is new, or this site definition shadows the standard library's: it wins.
    Wins,
    /// A site definition already shadows this standard-library one: it is ignored.
    Shadowed,
    /// Both are the site's or both the standard library's: the first stays, this one is a
    /// duplicate (E0102).
    Duplicate,
}

/// The winner rule of the site's namespace. `earlier_std`: whether the definition the name
/// resolves to so far comes from the standard library (`None`: the name is new); `std`:
/// whether the new one does.
pub fn outcome(earlier_std: Option<bool>, std: bool) -> Outcome {
    match earlier_std {
        None => Outcome::Wins,
        Some(true) if !std => Outcome::Wins,
        Some(false) if std => Outcome::Shadowed,
        Some(_) => Outcome::Duplicate,
    }
}

// ------------------------------------------------------------------ where names are written

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
        for d in item_declarations(item) {
            w.push(d.name, Role::Definition(d.kind));
        }
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
            let earlier_std = out.globals.get(&o.name).map(|d| d.std);
            if outcome(earlier_std, std) == Outcome::Wins {
                out.globals.insert(o.name.clone(), def.clone());
            }
            out.all.push(def);
        }
    }
    out
}

fn stmts<T>(v: &[Stmt<T>]) -> impl Iterator<Item = &T> {
    v.iter().filter_map(|s| s.node.as_ref())
}

/// Collects a file's references and its catalogue entries; its definitions come from
/// [`item_declarations`].
#[derive(Default)]
struct Walker {
    out: Vec<Occurrence>,
}

impl Walker {
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
            ItemKind::Group(g) => g.members.iter().for_each(|m| self.endpoint(ENDPOINT, m)),
            ItemKind::Zone(z) => self.zone(z),
            ItemKind::Conduit(c) => self.conduit(c),
            ItemKind::Device(d) => {
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
            ItemKind::Link(l) => l.zones.iter().for_each(|z| self.refer(&[K::Zone], z)),
            ItemKind::WorkOrder(w) => self.workorder(w),
            ItemKind::DataFlow(d) => {
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
        if z.name.name == BUILTIN_ZONE {
            // `zone external` declares nothing: its name stands for the built-in zone.
            self.refer(&[K::Zone], &z.name);
        }
        for s in stmts(&z.stmts) {
            match s {
                ast::ZoneStmt::Network(ep) => self.endpoint(&[K::Const], ep),
                ast::ZoneStmt::Asset(a) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(text: &str) -> Vec<(SymbolKind, String)> {
        let parsed = palisade_syntax::parse(text);
        assert_eq!(parsed.errors, Vec::new());
        declarations(&parsed.file)
            .map(|d| (d.kind, d.name.name.clone()))
            .collect()
    }

    #[test]
    fn declarations_in_order_with_assets_after_their_zone() {
        let text = r#"
site "S" { timezone "UTC" }
const net = 10.0.0.0/24
role operator
zone cell {
  security_level 2
  network net
  asset plc1 at 10.0.0.5 { kind plc }
  asset hmi1 at 10.0.0.6 { kind hmi }
}
zone external {
  asset outside at 192.0.2.1 { kind other }
}
firewall fw { target nftables }
conduit c: cell -> cell { }
"#;
        assert_eq!(
            declared(text),
            vec![
                (K::Const, "net".to_string()),
                (K::Role, "operator".to_string()),
                (K::Zone, "cell".to_string()),
                (K::Asset, "plc1".to_string()),
                (K::Asset, "hmi1".to_string()),
                (K::Firewall, "fw".to_string()),
                (K::Conduit, "c".to_string()),
            ]
        );
    }

    #[test]
    fn winner_rule() {
        assert_eq!(outcome(None, false), Outcome::Wins);
        assert_eq!(outcome(None, true), Outcome::Wins);
        assert_eq!(outcome(Some(true), false), Outcome::Wins);
        assert_eq!(outcome(Some(false), true), Outcome::Shadowed);
        assert_eq!(outcome(Some(false), false), Outcome::Duplicate);
        assert_eq!(outcome(Some(true), true), Outcome::Duplicate);
    }
}
