//! Lowering: the syntax trees of a site's files (standard library first) become one
//! [`Policy`], every name resolved. Resolution mistakes are diagnostics here; the checks that
//! need the whole resolved model live in `checks`.

mod devices;
mod services;

use crate::address::{complement, merge, AddrRange, Cidr};
use crate::diagnostic::{did_you_mean, Diagnostic, Location};
use crate::ir::{self, *};
use palisade_syntax::ast::{self, ItemKind, Stmt};
use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

/// One parsed file handed to lowering.
pub struct LowerInput<'a> {
    pub path: &'a str,
    pub text: &'a str,
    /// SHA-256 of `text`, hex (see [`crate::hash::sha256_hex`]).
    pub sha256: &'a str,
    pub std: bool,
    pub file: &'a ast::SourceFile,
}

// Lowering declares with the site's one symbol table: the same kinds, declarations and
// winner rule the language server reads.
use crate::symbols::{Outcome, SymbolKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Decl {
    kind: SymbolKind,
    /// Index within its kind's id space.
    id: u32,
    file: u32,
    span: ast::Span,
    std: bool,
}

pub const ASSET_KINDS: &[&str] = &[
    "plc",
    "hmi",
    "historian",
    "engineering_workstation",
    "sis",
    "jump_host",
    "server",
    "dcs_server",
    "rtu",
    "ied",
    "workstation",
    "network_device",
    "modem",
    "gateway_device",
    "sensor",
    "drive",
    "other",
];

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A constant's value after checking.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ConstValue {
    Int(u64),
    Str,
    Addr(AddrRange),
    Net(Cidr),
}

pub struct Lowered {
    pub policy: Policy,
    pub diagnostics: Vec<Diagnostic>,
}

/// What the conduits of every file are lowered against: the site's names, constants,
/// protocol catalogues, resolved groups and the policy without conduits and rules.
///
/// Lowering is staged so that an edit re-lowers little: [`lower_scope`] reads every file
/// but skips conduit bodies (the bulk of a site); [`lower_file_conduits`] lowers one file's
/// conduits and rules against a scope. A scope with its source positions removed
/// ([`Scope::without_positions`]) stays equal across an edit that changes no declaration,
/// so the other files' conduits need not be lowered again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    names: BTreeMap<String, Decl>,
    protocols: BTreeMap<String, ir::Protocol>,
    consts: BTreeMap<String, ConstValue>,
    resolved_groups: BTreeMap<u32, Vec<AddrRange>>,
    /// The policy without conduits and rules (work orders' `rules` are empty too).
    policy: Policy,
    /// Per file, the id of its first conduit: ids follow declaration order.
    conduit_base: Vec<u32>,
    /// Every `opens` entry of a work order: the order, the conduit and where it is written.
    opens: Vec<(WorkOrderId, ConduitId, Location)>,
    /// Per zone id, its networks merged; `external` (0) holds what no zone owns.
    zone_addrs: Vec<Vec<AddrRange>>,
}

/// One file's conduits and rules. Rule ids are local to the file (the first rule is 0);
/// [`assemble`] renumbers them into the site's.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FileConduits {
    pub conduits: Vec<Conduit>,
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Where lowering stands: the whole site but conduit bodies, or one file's conduits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Scope,
    Conduits { file: u32 },
}

struct Lowerer<'a> {
    inputs: &'a [LowerInput<'a>],
    stage: Stage,
    diags: Vec<Diagnostic>,
    names: Cow<'a, BTreeMap<String, Decl>>,
    protocols: Cow<'a, BTreeMap<String, ir::Protocol>>,
    consts: Cow<'a, BTreeMap<String, ConstValue>>,
    /// Id counters per kind, in declaration order.
    counts: BTreeMap<&'static str, u32>,
    /// Which kind-local id each zone/asset/… item (by file and span start) received.
    ids: BTreeMap<(u32, u32), u32>,
    policy: Cow<'a, Policy>,
    /// Group resolution in progress (for cycle detection).
    resolving_groups: Vec<u32>,
    resolved_groups: Cow<'a, BTreeMap<u32, Vec<AddrRange>>>,
    opens: Cow<'a, [(WorkOrderId, ConduitId, Location)]>,
    zone_addrs: Cow<'a, [Vec<AddrRange>]>,
    conduit_base: Cow<'a, [u32]>,
    /// Conduits and rules lowered at the `Conduits` stage.
    conduits: Vec<Conduit>,
    rules: Vec<Rule>,
    /// At the `Conduits` stage against a scope without positions: the same scope with them,
    /// read only to place a diagnostic's label on a declaration elsewhere.
    positioned: Option<&'a dyn Fn() -> &'a Scope>,
}

fn key_of(kind: SymbolKind) -> &'static str {
    match kind {
        SymbolKind::Firewall | SymbolKind::Gateway => "device",
        other => other.describe(),
    }
}

/// Lower a whole site: its scope, every file's conduits, assembled into one policy.
pub fn lower(inputs: &[LowerInput<'_>]) -> Lowered {
    let (scope, mut diagnostics) = lower_scope(inputs);
    let files: Vec<FileConduits> = (0..inputs.len() as u32)
        .map(|file| lower_file_conduits(inputs, &scope, file, None))
        .collect();
    let policy = assemble(&scope, files.iter());
    diagnostics.extend(files.into_iter().flat_map(|f| f.diagnostics));
    Lowered {
        policy,
        diagnostics,
    }
}

/// Lower everything but conduit bodies: declarations, constants, roles, protocols, services,
/// zones and assets, groups, devices and links, work orders, people, data flows, assertions
/// and profiles. Reads every file.
pub fn lower_scope(inputs: &[LowerInput<'_>]) -> (Scope, Vec<Diagnostic>) {
    let mut l = Lowerer {
        inputs,
        stage: Stage::Scope,
        diags: Vec::new(),
        names: Cow::Owned(BTreeMap::new()),
        protocols: Cow::Owned(BTreeMap::new()),
        consts: Cow::Owned(BTreeMap::new()),
        counts: BTreeMap::new(),
        ids: BTreeMap::new(),
        policy: Cow::Owned(empty_policy(inputs)),
        resolving_groups: Vec::new(),
        resolved_groups: Cow::Owned(BTreeMap::new()),
        opens: Cow::Owned(Vec::new()),
        zone_addrs: Cow::Owned(Vec::new()),
        conduit_base: Cow::Owned(Vec::new()),
        conduits: Vec::new(),
        rules: Vec::new(),
        positioned: None,
    };
    l.declare_all();
    l.lower_site();
    l.lower_consts();
    l.lower_roles();
    l.lower_protocols();
    l.lower_services();
    l.lower_zones();
    l.index_zone_addrs();
    l.lower_groups();
    l.lower_devices_and_links();
    l.lower_workorders_header();
    l.lower_workorders();
    l.lower_persons();
    l.lower_dataflows();
    l.lower_assertions();
    l.lower_profiles();
    let scope = Scope {
        names: l.names.into_owned(),
        protocols: l.protocols.into_owned(),
        consts: l.consts.into_owned(),
        resolved_groups: l.resolved_groups.into_owned(),
        policy: l.policy.into_owned(),
        conduit_base: l.conduit_base.into_owned(),
        opens: l.opens.into_owned(),
        zone_addrs: l.zone_addrs.into_owned(),
    };
    (scope, l.diags)
}

/// Lower the conduits of one file (by its position in `inputs`) against the site's scope.
///
/// When `scope` has had its positions removed, `positioned` gives the scope with them: a
/// diagnostic that points at a declaration in another part of the site reads it there.
pub fn lower_file_conduits<'a>(
    inputs: &'a [LowerInput<'a>],
    scope: &'a Scope,
    file: u32,
    positioned: Option<&'a dyn Fn() -> &'a Scope>,
) -> FileConduits {
    let Some(input) = inputs.get(file as usize) else {
        return FileConduits::default();
    };
    if !input
        .file
        .items
        .iter()
        .any(|i| matches!(i.kind, ItemKind::Conduit(_)))
    {
        return FileConduits::default();
    }
    let mut l = Lowerer {
        inputs,
        stage: Stage::Conduits { file },
        diags: Vec::new(),
        names: Cow::Borrowed(&scope.names),
        protocols: Cow::Borrowed(&scope.protocols),
        consts: Cow::Borrowed(&scope.consts),
        counts: BTreeMap::new(),
        ids: BTreeMap::new(),
        policy: Cow::Borrowed(&scope.policy),
        resolving_groups: Vec::new(),
        resolved_groups: Cow::Borrowed(&scope.resolved_groups),
        opens: Cow::Borrowed(&scope.opens),
        zone_addrs: Cow::Borrowed(&scope.zone_addrs),
        conduit_base: Cow::Borrowed(&scope.conduit_base),
        conduits: Vec::new(),
        rules: Vec::new(),
        positioned,
    };
    l.lower_conduits(file);
    FileConduits {
        conduits: l.conduits,
        rules: l.rules,
        diagnostics: l.diags,
    }
}

/// The site's policy: the scope's, with every file's conduits and rules (in file order, so
/// conduit ids are declaration order) and each work order's rules filled in.
pub fn assemble<'f>(scope: &Scope, files: impl Iterator<Item = &'f FileConduits>) -> Policy {
    let mut policy = scope.policy.clone();
    for f in files {
        let offset = policy.rules.len() as u32;
        policy.conduits.extend(f.conduits.iter().map(|c| {
            let mut c = c.clone();
            for r in &mut c.rules {
                r.0 += offset;
            }
            c
        }));
        policy.rules.extend(f.rules.iter().cloned());
    }
    let mut by_order: BTreeMap<WorkOrderId, Vec<RuleId>> = BTreeMap::new();
    for (i, r) in policy.rules.iter().enumerate() {
        if let Some(w) = r.workorder {
            by_order.entry(w).or_default().push(RuleId(i as u32));
        }
    }
    for (i, wo) in policy.workorders.iter_mut().enumerate() {
        wo.rules = by_order.remove(&WorkOrderId(i as u32)).unwrap_or_default();
    }
    policy
}

impl Scope {
    /// The scope with every source position removed (spans zeroed, file hashes and label
    /// positions dropped): what lowering a file's conduits may depend on without being
    /// invalidated by an edit that only moves text.
    pub fn without_positions(&self) -> Scope {
        let mut s = self.clone();
        for d in s.names.values_mut() {
            d.span = ast::Span::default();
        }
        for p in s.protocols.values_mut() {
            strip_protocol(p);
        }
        for (_, _, at) in &mut s.opens {
            at.start = 0;
            at.end = 0;
        }
        strip_policy(&mut s.policy);
        s
    }

    /// The policy without conduits and rules.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

fn strip_protocol(p: &mut ir::Protocol) {
    p.span = Span::default();
    for f in &mut p.functions {
        f.span = Span::default();
    }
}

/// Zero every span of a policy and drop the source hashes (paths stay: diagnostics name
/// their file).
fn strip_policy(p: &mut Policy) {
    let z = Span::default();
    p.site.span = z;
    for s in &mut p.sources {
        s.sha256.clear();
    }
    for r in &mut p.roles {
        r.span = z;
    }
    for x in &mut p.persons {
        x.span = z;
    }
    for x in &mut p.protocols {
        strip_protocol(x);
    }
    for x in &mut p.services {
        x.span = z;
    }
    for g in &mut p.groups {
        g.span = z;
        for m in &mut g.members {
            m.span = z;
        }
    }
    for x in &mut p.zones {
        x.span = z;
        for n in &mut x.network_spans {
            *n = z;
        }
    }
    for a in &mut p.assets {
        a.span = z;
        for i in &mut a.interfaces {
            i.span = z;
        }
        for c in &mut a.compensating {
            c.span = z;
        }
    }
    for d in &mut p.devices {
        d.span = z;
        for i in &mut d.interfaces {
            i.span = z;
        }
    }
    for l in &mut p.links {
        l.span = z;
    }
    for w in &mut p.workorders {
        w.span = z;
        for t in &mut w.windows {
            t.span = z;
        }
    }
    for f in &mut p.dataflows {
        f.span = z;
        for h in &mut f.hops {
            h.span = z;
        }
    }
    for a in &mut p.assertions {
        a.span = z;
    }
    for c in &mut p.profile {
        c.span = z;
    }
}

fn empty_policy(inputs: &[LowerInput<'_>]) -> Policy {
    Policy {
        ir_version: IR_VERSION,
        site: SiteInfo {
            name: String::new(),
            timezone: String::new(),
            description: None,
            span: Span::default(),
        },
        sources: inputs
            .iter()
            .map(|i| SourceInfo {
                path: i.path.to_string(),
                sha256: i.sha256.to_string(),
                std: i.std,
            })
            .collect(),
        roles: Vec::new(),
        persons: Vec::new(),
        protocols: Vec::new(),
        services: Vec::new(),
        groups: Vec::new(),
        zones: vec![Zone {
            name: "external".into(),
            title: Some("Everything outside the site's declared zones".into()),
            description: None,
            security_level: SlVector::scalar(0),
            networks: Vec::new(),
            assets: Vec::new(),
            builtin: true,
            span: Span::default(),
            network_spans: Vec::new(),
        }],
        assets: Vec::new(),
        conduits: Vec::new(),
        rules: Vec::new(),
        devices: Vec::new(),
        links: Vec::new(),
        workorders: Vec::new(),
        dataflows: Vec::new(),
        assertions: Vec::new(),
        profile: Vec::new(),
    }
}

fn title(t: &Option<ast::StrLit>) -> Option<String> {
    t.as_ref().map(|s| s.value.clone())
}

fn stmts<T>(v: &[Stmt<T>]) -> impl Iterator<Item = (&T, ast::Span)> {
    v.iter()
        .filter_map(|s| s.node.as_ref().map(|n| (n, s.span)))
}

impl<'a> Lowerer<'a> {
    fn loc(&self, file: u32, span: ast::Span) -> Location {
        Location {
            file: self
                .inputs
                .get(file as usize)
                .map(|i| i.path.to_string())
                .unwrap_or_default(),
            start: span.start,
            end: span.end,
        }
    }

    fn span(file: u32, span: ast::Span) -> Span {
        Span {
            file,
            start: span.start,
            end: span.end,
        }
    }

    fn items(&self) -> impl Iterator<Item = (u32, &'a ast::Item)> + 'a {
        self.inputs
            .iter()
            .enumerate()
            .flat_map(|(f, i)| i.file.items.iter().map(move |it| (f as u32, it)))
    }

    fn next_id(&mut self, kind: SymbolKind) -> u32 {
        let c = self.counts.entry(key_of(kind)).or_insert(0);
        let id = *c;
        *c += 1;
        id
    }

    // ------------------------------------------------------------ declarations

    // Out of line: inlined into `lower_scope` (its one call site) the scope stage ran ~1%
    // more instructions per edit (callgrind over `benches/edit`).
    #[inline(never)]
    fn declare(&mut self, kind: SymbolKind, name: &ast::Ident, file: u32, std: bool) -> u32 {
        // Zones start at 1: 0 is `external`.
        let id = self.next_id(kind) + u32::from(kind == SymbolKind::Zone);
        self.ids.insert((file, name.span.start), id);
        let decl = Decl {
            kind,
            id,
            file,
            span: name.span,
            std,
        };
        // One walk down the map: most names are new.
        let duplicate = match self.names.to_mut().entry(name.name.clone()) {
            Entry::Vacant(v) => {
                v.insert(decl);
                None
            }
            Entry::Occupied(mut o) => {
                let prev = *o.get();
                match crate::symbols::outcome(Some(prev.std), std) {
                    Outcome::Wins => {
                        o.insert(decl);
                        None
                    }
                    Outcome::Duplicate => Some(prev),
                    Outcome::Shadowed => None,
                }
            }
        };
        if let Some(prev) = duplicate {
            let d = Diagnostic::error(
                "E0102",
                format!("`{}` is defined more than once", name.name),
            )
            .primary(
                self.loc(file, name.span),
                format!("second definition of `{}`", name.name),
            )
            .secondary(
                self.loc(prev.file, prev.span),
                format!("first defined here as {}", a(prev.kind.describe())),
            )
            .help(
                "every zone, asset, conduit, service, role and other item needs a name of its own",
            );
            self.diags.push(d);
        }
        id
    }

    fn declare_all(&mut self) {
        let mut site_count = 0;
        let mut first_site: Option<(u32, ast::Span)> = None;
        for (file, item) in self.items() {
            let std = self.inputs.get(file as usize).is_some_and(|i| i.std);
            match &item.kind {
                ItemKind::Site(s) => {
                    site_count += 1;
                    // `site "Name"`, not the whole block: the labels stay one line each.
                    let head = ast::Span {
                        start: item.span.start,
                        end: s.name.span.end,
                    };
                    if site_count == 1 {
                        first_site = Some((file, head));
                    } else if let Some((f0, s0)) = first_site {
                        let d = Diagnostic::error("E0013", "a site is declared more than once")
                            .primary(self.loc(file, head), "second `site`")
                            .secondary(self.loc(f0, s0), "first `site` here")
                            .help("all files of a site share one `site` item");
                        self.diags.push(d);
                    }
                }
                ItemKind::Zone(z) if z.name.name == crate::symbols::BUILTIN_ZONE => {
                    let d = Diagnostic::error("E0104", "the zone `external` is built in and cannot be declared")
                        .primary(self.loc(file, z.name.span), "declared here")
                        .help("`external` already stands for every address no declared zone owns; give this zone another name");
                    self.diags.push(d);
                }
                _ => {
                    for d in crate::symbols::item_declarations(item) {
                        self.declare(d.kind, d.name, file, std);
                    }
                }
            }
        }
        // Conduit ids run over the files in order: each file's start where the last ended.
        let mut next = 0u32;
        for input in self.inputs {
            self.conduit_base.to_mut().push(next);
            next += input
                .file
                .items
                .iter()
                .filter(|i| matches!(i.kind, ItemKind::Conduit(_)))
                .count() as u32;
        }
        let site_files = self.inputs.iter().any(|i| !i.std);
        if site_count == 0 && site_files {
            let file = self.inputs.iter().position(|i| !i.std).unwrap_or(0) as u32;
            let d = Diagnostic::error("E0012", "no `site` is declared")
                .primary(self.loc(file, ast::Span::default()), "this site has no `site` item")
                .help("add `site \"Plant name\" { timezone \"Europe/Berlin\" }` to one of the site's files");
            self.diags.push(d);
        }
    }

    /// Whether this declaration is the one a name resolves to (not a shadowed or duplicate one).
    fn is_live(&self, name: &ast::Ident, file: u32) -> bool {
        self.names
            .get(&name.name)
            .is_some_and(|d| d.file == file && d.span == name.span)
    }

    fn id_of(&self, file: u32, name: &ast::Ident) -> u32 {
        self.ids.get(&(file, name.span.start)).copied().unwrap_or(0)
    }

    /// Resolve a name expected to be one of `kinds`; reports undefined or wrong-kind names.
    fn resolve(&mut self, file: u32, name: &ast::Ident, kinds: &[SymbolKind]) -> Option<Decl> {
        // The common case first, without building the message text (tens of thousands of
        // names resolve in a large site).
        if let Some(d) = self
            .names
            .get(&name.name)
            .filter(|d| kinds.contains(&d.kind))
        {
            return Some(*d);
        }
        let what = one_of(&kinds.iter().map(|k| k.describe()).collect::<Vec<_>>());
        match self.names.get(&name.name).copied() {
            Some(d) if kinds.contains(&d.kind) => Some(d),
            Some(d) => {
                let diag = Diagnostic::error(
                    "E0103",
                    format!(
                        "`{}` is {}, but {} is expected here",
                        name.name,
                        a(d.kind.describe()),
                        a(&what)
                    ),
                )
                .primary(self.loc(file, name.span), format!("expected {}", a(&what)))
                .secondary(
                    self.decl_loc(&name.name, d),
                    format!("`{}` is defined here", name.name),
                );
                let diag = match self.suggest(&name.name, kinds) {
                    Some(h) => diag.help(h),
                    None => diag,
                };
                self.diags.push(diag);
                None
            }
            None => {
                let diag =
                    Diagnostic::error("E0101", format!("cannot find {what} `{}`", name.name))
                        .primary(self.loc(file, name.span), "not defined");
                let diag = match self.suggest(&name.name, kinds) {
                    Some(h) => diag.help(h),
                    None if kinds.contains(&SymbolKind::Service) => {
                        diag.help("standard services come with `use std.services`")
                    }
                    None => diag,
                };
                self.diags.push(diag);
                None
            }
        }
    }

    /// Where a declaration is written (from the positioned scope when lowering against one
    /// without positions).
    fn decl_loc(&self, name: &str, d: Decl) -> Location {
        let d = self
            .positioned
            .and_then(|p| p().names.get(name).copied())
            .unwrap_or(d);
        self.loc(d.file, d.span)
    }

    fn suggest(&self, name: &str, kinds: &[SymbolKind]) -> Option<String> {
        let mut candidates: Vec<&str> = self
            .names
            .iter()
            .filter(|(_, d)| kinds.contains(&d.kind))
            .map(|(n, _)| n.as_str())
            .collect();
        if kinds.contains(&SymbolKind::Zone) {
            candidates.push("external");
        }
        did_you_mean(name, candidates)
    }

    fn resolve_zone(&mut self, file: u32, name: &ast::Ident) -> Option<ZoneId> {
        if name.name == "external" {
            return Some(EXTERNAL);
        }
        self.resolve(file, name, &[SymbolKind::Zone])
            .map(|d| ZoneId(d.id))
    }

    // ------------------------------------------------------------ site, constants, roles

    fn lower_site(&mut self) {
        for (file, item) in self.items() {
            if let ItemKind::Site(s) = &item.kind {
                if !self.policy.site.name.is_empty() {
                    continue;
                }
                self.policy.to_mut().site.name = s.name.value.clone();
                self.policy.to_mut().site.span = Self::span(file, item.span);
                let mut tz = None;
                for (stmt, span) in stmts(&s.stmts) {
                    match stmt {
                        ast::SiteStmt::Timezone(t) => {
                            if !valid_timezone(&t.value) {
                                let d = Diagnostic::error(
                                    "E0014",
                                    format!("`{}` is not an IANA time zone name", t.value),
                                )
                                .primary(
                                    self.loc(file, t.span),
                                    "expected a name such as `Europe/Rotterdam` or `UTC`",
                                )
                                .help("work-order windows are evaluated in the site's time zone");
                                self.diags.push(d);
                            }
                            tz = Some(t.value.clone());
                            let _ = span;
                        }
                        ast::SiteStmt::Description(d) => {
                            self.policy.to_mut().site.description = Some(d.value.clone())
                        }
                    }
                }
                match tz {
                    Some(tz) => self.policy.to_mut().site.timezone = tz,
                    None if has_syntax_errors(&s.stmts) => {}
                    None => {
                        let d = Diagnostic::error(
                            "E0014",
                            format!("site `{}` has no time zone", s.name.value),
                        )
                        .primary(self.loc(file, s.name.span), "no `timezone` in this site")
                        .help("add `timezone \"Area/City\"`: work-order windows are local times");
                        self.diags.push(d);
                    }
                }
            }
        }
    }

    fn lower_consts(&mut self) {
        for (file, item) in self.items() {
            if let ItemKind::Const(c) = &item.kind {
                if !self.is_live(&c.name, file) {
                    continue;
                }
                let value = match &c.value {
                    ast::Value::Int(i) => Some(ConstValue::Int(i.value)),
                    ast::Value::Str(_) => Some(ConstValue::Str),
                    ast::Value::Ip(ip, _) => {
                        Some(ConstValue::Addr(AddrRange::single(ip.v6, ip.value)))
                    }
                    ast::Value::Net(n, span) => Some(ConstValue::Net(self.cidr(file, *n, *span))),
                    ast::Value::IpRange(a, b, span) => {
                        self.ip_range(file, *a, *b, *span).map(ConstValue::Addr)
                    }
                };
                if let Some(v) = value {
                    self.consts.to_mut().insert(c.name.name.clone(), v);
                }
            }
        }
    }

    fn cidr(&mut self, file: u32, n: ast::NetLit, span: ast::Span) -> Cidr {
        let (cidr, host_bits) = Cidr::new(n.addr.v6, n.addr.value, n.prefix);
        if host_bits {
            let d = Diagnostic::warning("W0301", format!("network `{n}` has host bits set"))
                .primary(
                    self.loc(file, span),
                    format!("this is the network `{cidr}`"),
                )
                .help(format!("write `{cidr}`"));
            self.diags.push(d);
        }
        cidr
    }

    fn ip_range(
        &mut self,
        file: u32,
        a: ast::IpLit,
        b: ast::IpLit,
        span: ast::Span,
    ) -> Option<AddrRange> {
        if a.v6 != b.v6 || a.value > b.value {
            let d = Diagnostic::error("E0207", format!("`{a}-{b}` is not an address range"))
                .primary(
                    self.loc(file, span),
                    if a.v6 != b.v6 {
                        "the two ends are of different address families"
                    } else {
                        "the first address is above the last"
                    },
                )
                .help("write the lower address first, both of one family");
            self.diags.push(d);
            return None;
        }
        Some(AddrRange {
            v6: a.v6,
            lo: a.value,
            hi: b.value,
        })
    }

    fn lower_roles(&mut self) {
        for (file, item) in self.items() {
            if let ItemKind::Role(r) = &item.kind {
                self.policy.to_mut().roles.push(ir::Role {
                    name: r.name.name.clone(),
                    title: title(&r.title),
                    span: Self::span(file, item.span),
                });
            }
        }
    }

    fn lower_protocols(&mut self) {
        for (file, item) in self.items() {
            let ItemKind::Protocol(p) = &item.kind else {
                continue;
            };
            let Some(family) = ProtocolFamily::from_name(&p.name.name) else {
                let d = Diagnostic::error(
                    "E0210",
                    format!("unknown protocol family `{}`", p.name.name),
                )
                .primary(
                    self.loc(file, p.name.span),
                    "expected `modbus`, `dnp3` or `cip`",
                );
                self.diags.push(d);
                continue;
            };
            let mut functions: Vec<ProtocolFunction> = Vec::new();
            for (stmt, span) in stmts(&p.stmts) {
                let want_service = family == ProtocolFamily::Cip;
                if stmt.is_service != want_service {
                    let (kw, other) = if want_service {
                        ("service", "function")
                    } else {
                        ("function", "service")
                    };
                    let d = Diagnostic::error(
                        "E0204",
                        format!(
                            "`{}` entries of `{}` are written `{kw}`",
                            other,
                            family.name()
                        ),
                    )
                    .primary(
                        self.loc(file, span),
                        format!("write `{kw} {} = …`", stmt.name.name),
                    );
                    self.diags.push(d);
                    continue;
                }
                if stmt.code.value > family.max_code() {
                    let d = Diagnostic::error(
                        "E0204",
                        format!(
                            "code {} is out of range for {}",
                            stmt.code.value,
                            family.name()
                        ),
                    )
                    .primary(
                        self.loc(file, stmt.code.span),
                        format!("at most {}", family.max_code()),
                    );
                    self.diags.push(d);
                    continue;
                }
                let access = match stmt.access.as_ref().map(|a| a.name.as_str()) {
                    None | Some("other") => Access::Other,
                    Some("read") => Access::Read,
                    Some("write") => Access::Write,
                    Some("diagnostic") => Access::Diagnostic,
                    Some(other) => {
                        let span = stmt.access.as_ref().map(|a| a.span).unwrap_or(span);
                        let d =
                            Diagnostic::error("E0204", format!("unknown access class `{other}`"))
                                .primary(
                                    self.loc(file, span),
                                    "expected `read`, `write`, `diagnostic` or `other`",
                                );
                        self.diags.push(d);
                        Access::Other
                    }
                };
                if let Some(prev) = functions.iter().find(|f| f.name == stmt.name.name) {
                    let d = Diagnostic::error(
                        "E0102",
                        format!(
                            "`{}` is defined more than once in `{}`",
                            stmt.name.name,
                            family.name()
                        ),
                    )
                    .primary(self.loc(file, stmt.name.span), "second definition")
                    .secondary(
                        self.loc(
                            prev.span.file,
                            ast::Span {
                                start: prev.span.start,
                                end: prev.span.end,
                            },
                        ),
                        "first definition",
                    );
                    self.diags.push(d);
                    continue;
                }
                functions.push(ProtocolFunction {
                    name: stmt.name.name.clone(),
                    code: stmt.code.value as u8,
                    access,
                    span: Self::span(file, stmt.name.span),
                });
            }
            let protocol = ir::Protocol {
                family,
                title: title(&p.title),
                functions,
                span: Self::span(file, item.span),
            };
            let std = self.inputs.get(file as usize).is_some_and(|i| i.std);
            // A site's catalogue replaces the standard one of the same family.
            if std && self.protocols.contains_key(family.name()) {
                continue;
            }
            self.protocols
                .to_mut()
                .insert(family.name().to_string(), protocol);
        }
        self.policy.to_mut().protocols = self.protocols.values().cloned().collect();
    }

    // ------------------------------------------------------------ services

    fn lower_services(&mut self) {
        let mut services: Vec<(u32, &'a ast::Item, &'a ast::Service)> = Vec::new();
        for (file, item) in self.items() {
            if let ItemKind::Service(s) = &item.kind {
                services.push((file, item, s));
            }
        }
        for (file, item, s) in &services {
            let file = *file;
            let std = self.inputs.get(file as usize).is_some_and(|i| i.std);
            let mut svc = ir::Service {
                name: s.name.name.clone(),
                title: title(&s.title),
                transports: Vec::new(),
                members: Vec::new(),
                inspect: None,
                integrity: false,
                confidentiality: false,
                broadcast: false,
                multicast: false,
                layer2: false,
                std,
                span: Self::span(file, item.span),
            };
            let live = self.is_live(&s.name, file);
            match &s.def {
                ast::ServiceDef::Ports(ports) => {
                    for p in ports {
                        if let Some(t) = self.port_spec(file, p) {
                            svc.transports.push(t);
                        }
                    }
                }
                ast::ServiceDef::Group(members) => {
                    for m in members {
                        if let Some(d) = self.resolve(file, m, &[SymbolKind::Service]) {
                            svc.members.push(ServiceId(d.id));
                        }
                    }
                }
            }
            let mut inspect_span = None;
            for (stmt, _) in stmts(s.body.as_deref().unwrap_or(&[])) {
                match stmt {
                    ast::ServiceStmt::Inspect(name) => {
                        match ProtocolFamily::from_name(&name.name) {
                            Some(f) if self.protocols.contains_key(f.name()) => {
                                svc.inspect = Some(f);
                                inspect_span = Some(name.span);
                            }
                            _ => {
                                let d = Diagnostic::error(
                                    "E0210",
                                    format!("unknown protocol family `{}`", name.name),
                                )
                                .primary(
                                    self.loc(file, name.span),
                                    "expected `modbus`, `dnp3` or `cip`",
                                );
                                self.diags.push(d);
                            }
                        }
                    }
                    ast::ServiceStmt::Provides(props) => {
                        for (p, _) in props {
                            match p {
                                ast::Property::Integrity => svc.integrity = true,
                                ast::Property::Confidentiality => svc.confidentiality = true,
                            }
                        }
                    }
                    ast::ServiceStmt::Broadcast => svc.broadcast = true,
                    ast::ServiceStmt::Multicast => svc.multicast = true,
                    ast::ServiceStmt::Layer2 => svc.layer2 = true,
                    ast::ServiceStmt::Description(_) => {}
                }
            }
            let _ = live;
            if let Some(span) = inspect_span {
                self.encrypted_inspection(file, &svc, span);
            }
            self.policy.to_mut().services.push(svc);
        }
        // Flatten groups' transports (cycles reported once).
        let n = self.policy.services.len();
        for i in 0..n {
            let mut seen = vec![i];
            let mut stack: Vec<usize> = self
                .policy
                .services
                .get(i)
                .map(|s| s.members.iter().map(|m| m.index()).collect())
                .unwrap_or_default();
            let mut transports = Vec::new();
            let mut cycle = false;
            while let Some(j) = stack.pop() {
                if seen.contains(&j) {
                    cycle |= j == i;
                    continue;
                }
                seen.push(j);
                if let Some(s) = self.policy.services.get(j) {
                    transports.extend(s.transports.iter().copied());
                    stack.extend(s.members.iter().map(|m| m.index()));
                    let (local, inspect) = (s.is_local_only(), s.inspect);
                    if let Some(me) = self.policy.to_mut().services.get_mut(i) {
                        me.layer2 |= local;
                        if me.inspect.is_none() {
                            me.inspect = inspect;
                        }
                    }
                }
            }
            if cycle {
                if let Some(s) = self.policy.services.get(i) {
                    let d = Diagnostic::error(
                        "E0105",
                        format!("service group `{}` contains itself", s.name),
                    )
                    .primary(
                        self.policy.location(s.span),
                        "this group refers back to itself through its members",
                    );
                    self.diags.push(d);
                }
            }
            if let Some(me) = self.policy.to_mut().services.get_mut(i) {
                if !me.members.is_empty() {
                    me.transports = transports;
                    me.transports.sort();
                    me.transports.dedup();
                }
            }
        }
    }

    fn port_num(&mut self, file: u32, p: &ast::PortNum, max: u64, what: &str) -> Option<u64> {
        let (value, span) = match p {
            ast::PortNum::Int(i) => (i.value, i.span),
            ast::PortNum::Const(name) => {
                self.resolve(file, name, &[SymbolKind::Const])?;
                match self.consts.get(&name.name) {
                    Some(ConstValue::Int(v)) => (*v, name.span),
                    _ => {
                        let d = Diagnostic::error(
                            "E0211",
                            format!("constant `{}` is not a number", name.name),
                        )
                        .primary(self.loc(file, name.span), format!("expected {}", a(what)));
                        self.diags.push(d);
                        return None;
                    }
                }
            }
        };
        if value > max {
            let d = Diagnostic::error("E0201", format!("{what} {value} is out of range")).primary(
                self.loc(file, span),
                format!("{} is at most {max}", a(what)),
            );
            self.diags.push(d);
            return None;
        }
        Some(value)
    }

    fn port_spec(&mut self, file: u32, p: &ast::PortSpec) -> Option<Transport> {
        let proto = p.proto.name.as_str();
        let bad = |this: &mut Self, msg: &str, help: &str| {
            let d = Diagnostic::error("E0201", format!("invalid port specification: {msg}"))
                .primary(this.loc(file, p.span), msg.to_string())
                .help(help.to_string());
            this.diags.push(d);
            None
        };
        match proto {
            "tcp" | "udp" => {
                let Some(first) = &p.first else {
                    return bad(
                        self,
                        &format!("`{proto}` needs a port"),
                        &format!("write `{proto}/502` or `{proto}/1024-65535`"),
                    );
                };
                if p.code.is_some() {
                    return bad(
                        self,
                        "a port has no code",
                        "the third part is only for ICMP codes",
                    );
                }
                let lo = self.port_num(file, first, 65535, "port")? as u16;
                let hi = match &p.last {
                    Some(l) => self.port_num(file, l, 65535, "port")? as u16,
                    None => lo,
                };
                if lo > hi {
                    return bad(
                        self,
                        "the port range is reversed",
                        "write the lower port first",
                    );
                }
                Some(if proto == "tcp" {
                    Transport::Tcp { lo, hi }
                } else {
                    Transport::Udp { lo, hi }
                })
            }
            "icmp" | "icmpv6" => {
                if p.last.is_some() {
                    return bad(
                        self,
                        "ICMP types are not ranges",
                        "write `icmp/TYPE` or `icmp/TYPE/CODE`",
                    );
                }
                let icmp_type = match &p.first {
                    Some(f) => Some(self.port_num(file, f, 255, "ICMP type")? as u8),
                    None => None,
                };
                let code = match &p.code {
                    Some(c) => Some(self.port_num(file, c, 255, "ICMP code")? as u8),
                    None => None,
                };
                Some(if proto == "icmp" {
                    Transport::Icmp { icmp_type, code }
                } else {
                    Transport::Icmpv6 { icmp_type, code }
                })
            }
            "proto" | "ethertype" => {
                let Some(first) = &p.first else {
                    return bad(
                        self,
                        &format!("`{proto}` needs a number"),
                        &format!("write `{proto}/47`"),
                    );
                };
                if p.last.is_some() || p.code.is_some() {
                    return bad(
                        self,
                        "a single number is expected",
                        &format!("write `{proto}/N`"),
                    );
                }
                if proto == "proto" {
                    let number = self.port_num(file, first, 255, "IP protocol number")? as u8;
                    Some(Transport::Ip { number })
                } else {
                    let value = self.port_num(file, first, 65535, "ethertype")? as u16;
                    Some(Transport::Ethertype { value })
                }
            }
            other => {
                let hint = did_you_mean(
                    other,
                    ["tcp", "udp", "icmp", "icmpv6", "proto", "ethertype"],
                )
                .unwrap_or_else(|| {
                    "expected `tcp`, `udp`, `icmp`, `icmpv6`, `proto` or `ethertype`".into()
                });
                bad(self, &format!("unknown protocol `{other}`"), &hint)
            }
        }
    }

    // ------------------------------------------------------------ zones and assets

    fn level(&mut self, file: u32, level: &ast::Level) -> Option<SlVector> {
        match level {
            ast::Level::Scalar(i) => {
                if i.value > 4 {
                    let d = Diagnostic::error(
                        "E0202",
                        format!("security level {} is out of range", i.value),
                    )
                    .primary(self.loc(file, i.span), "security levels run from 0 to 4");
                    self.diags.push(d);
                    return None;
                }
                Some(SlVector::scalar(i.value as u8))
            }
            ast::Level::Vector(entries, span) => {
                let mut out: [Option<u8>; 7] = [None; 7];
                let mut ok = true;
                for (fr, lvl) in entries {
                    let Some(idx) = FR_NAMES.iter().position(|n| *n == fr.name) else {
                        let hint = fr_hint(&fr.name);
                        let d = Diagnostic::error(
                            "E0203",
                            format!("unknown foundational requirement `{}`", fr.name),
                        )
                        .primary(self.loc(file, fr.span), "expected FR1 … FR7")
                        .help(hint);
                        self.diags.push(d);
                        ok = false;
                        continue;
                    };
                    if lvl.value > 4 {
                        let d = Diagnostic::error(
                            "E0202",
                            format!("security level {} is out of range", lvl.value),
                        )
                        .primary(self.loc(file, lvl.span), "security levels run from 0 to 4");
                        self.diags.push(d);
                        ok = false;
                        continue;
                    }
                    match out.get_mut(idx) {
                        Some(slot @ None) => *slot = Some(lvl.value as u8),
                        _ => {
                            let d =
                                Diagnostic::error("E0203", format!("`{}` is given twice", fr.name))
                                    .primary(self.loc(file, fr.span), "repeated here");
                            self.diags.push(d);
                            ok = false;
                        }
                    }
                }
                let missing: Vec<&str> = out
                    .iter()
                    .zip(FR_NAMES)
                    .filter(|(v, _)| v.is_none())
                    .map(|(_, n)| n)
                    .collect();
                if ok && !missing.is_empty() {
                    let d = Diagnostic::error(
                        "E0203",
                        format!("the security level vector lacks {}", missing.join(", ")),
                    )
                    .primary(
                        self.loc(file, *span),
                        "all seven foundational requirements are needed",
                    )
                    .help("write a scalar (`security_level 2`) when every FR has the same level");
                    self.diags.push(d);
                    ok = false;
                }
                ok.then(|| SlVector(out.map(|v| v.unwrap_or(0))))
            }
        }
    }

    /// An asset's or interface's address: a literal address or range, or a constant holding one.
    fn asset_addr(&mut self, file: u32, ep: &ast::Endpoint) -> Option<AddrRange> {
        match ep {
            ast::Endpoint::Value(ast::Value::Ip(ip, _)) => Some(AddrRange::single(ip.v6, ip.value)),
            ast::Endpoint::Value(ast::Value::IpRange(a, b, span)) => {
                self.ip_range(file, *a, *b, *span)
            }
            ast::Endpoint::Name(n) => {
                self.resolve(file, n, &[SymbolKind::Const])?;
                match self.consts.get(&n.name) {
                    Some(ConstValue::Addr(r)) => Some(*r),
                    _ => {
                        let d = Diagnostic::error(
                            "E0211",
                            format!("constant `{}` is not an address", n.name),
                        )
                        .primary(
                            self.loc(file, n.span),
                            "expected an address or an address range",
                        );
                        self.diags.push(d);
                        None
                    }
                }
            }
            other => {
                let d = Diagnostic::error("E0207", "an asset has an address or an address range")
                    .primary(self.loc(file, other.span()), "not an address")
                    .help("write `at 10.40.0.11` or `at 10.40.0.100-10.40.0.120`; a network belongs to a zone");
                self.diags.push(d);
                None
            }
        }
    }

    fn lower_zones(&mut self) {
        // Ids were handed out in declaration order, so pushing in the same order keeps them.
        for (file, item) in self.items() {
            let ItemKind::Zone(z) = &item.kind else {
                continue;
            };
            if z.name.name == "external" {
                continue;
            }
            let zone_id = ZoneId(self.id_of(file, &z.name));
            let mut zone = ir::Zone {
                name: z.name.name.clone(),
                title: title(&z.title),
                description: None,
                security_level: SlVector::scalar(0),
                networks: Vec::new(),
                assets: Vec::new(),
                builtin: false,
                span: Self::span(file, item.span),
                network_spans: Vec::new(),
            };
            let mut level_seen = false;
            for (stmt, span) in stmts(&z.stmts) {
                match stmt {
                    ast::ZoneStmt::Description(d) => zone.description = Some(d.value.clone()),
                    ast::ZoneStmt::SecurityLevel(l) => {
                        level_seen = true;
                        if let Some(v) = self.level(file, l) {
                            zone.security_level = v;
                        }
                    }
                    ast::ZoneStmt::Network(ep) => match ep {
                        ast::Endpoint::Value(ast::Value::Net(n, span)) => {
                            let c = self.cidr(file, *n, *span);
                            zone.networks.push(c);
                            zone.network_spans.push(Self::span(file, *span));
                        }
                        ast::Endpoint::Name(n) => {
                            if self.resolve(file, n, &[SymbolKind::Const]).is_some() {
                                match self.consts.get(&n.name) {
                                    Some(ConstValue::Net(c)) => {
                                        zone.networks.push(*c);
                                        zone.network_spans.push(Self::span(file, n.span));
                                    }
                                    _ => {
                                        let d = Diagnostic::error(
                                            "E0211",
                                            format!("constant `{}` is not a network", n.name),
                                        )
                                        .primary(
                                            self.loc(file, n.span),
                                            "expected a network such as `10.40.0.0/24`",
                                        );
                                        self.diags.push(d);
                                    }
                                }
                            }
                        }
                        other => {
                            let d = Diagnostic::error(
                                "E0207",
                                "a zone network is written as `address/prefix`",
                            )
                            .primary(self.loc(file, other.span()), "not a network")
                            .help("write `network 10.40.0.0/24`");
                            self.diags.push(d);
                        }
                    },
                    ast::ZoneStmt::Asset(a) => {
                        let asset_id = AssetId(self.id_of(file, &a.name));
                        let asset = self.lower_asset(file, zone_id, a, span);
                        zone.assets.push(asset_id);
                        self.policy.to_mut().assets.push(asset);
                    }
                }
            }
            if !level_seen && !has_syntax_errors(&z.stmts) {
                let d = Diagnostic::error(
                    "E0202",
                    format!("zone `{}` has no security level", z.name.name),
                )
                .primary(
                    self.loc(file, z.name.span),
                    "no `security_level` in this zone",
                )
                .help("every zone needs a target security level SL-T, e.g. `security_level 2`");
                self.diags.push(d);
            }
            // Written but wrong networks are reported as such; after a syntax error, nothing.
            let network_written =
                stmts(&z.stmts).any(|(s, _)| matches!(s, ast::ZoneStmt::Network(_)));
            if !network_written && !has_syntax_errors(&z.stmts) {
                let d =
                    Diagnostic::error("E0306", format!("zone `{}` has no network", z.name.name))
                        .primary(self.loc(file, z.name.span), "no `network` in this zone")
                        .help("a zone owns one or more networks, e.g. `network 10.40.0.0/24`");
                self.diags.push(d);
            }
            self.policy.to_mut().zones.push(zone);
        }
    }

    fn lower_asset(
        &mut self,
        file: u32,
        zone: ZoneId,
        a: &ast::Asset,
        span: ast::Span,
    ) -> ir::Asset {
        let addr = self
            .asset_addr(file, &a.addr)
            .unwrap_or(AddrRange::UNRESOLVED);
        let mut asset = ir::Asset {
            name: a.name.name.clone(),
            title: title(&a.title),
            description: None,
            zone,
            addr,
            kind: None,
            capability: None,
            interfaces: Vec::new(),
            bridge: false,
            compensating: Vec::new(),
            span: Self::span(file, span),
        };
        for (stmt, sspan) in stmts(a.body.as_deref().unwrap_or(&[])) {
            match stmt {
                ast::AssetStmt::Kind(k) => {
                    if ASSET_KINDS.contains(&k.name.as_str()) {
                        asset.kind = Some(k.name.clone());
                    } else {
                        let hint = did_you_mean(&k.name, ASSET_KINDS.iter().copied())
                            .unwrap_or_else(|| format!("known kinds: {}", ASSET_KINDS.join(", ")));
                        let d =
                            Diagnostic::error("E0205", format!("unknown asset kind `{}`", k.name))
                                .primary(self.loc(file, k.span), "not an asset kind")
                                .help(hint);
                        self.diags.push(d);
                    }
                }
                ast::AssetStmt::Capability(l) => asset.capability = self.level(file, l),
                ast::AssetStmt::Interface { zone, addr } => {
                    let z = self.resolve_zone(file, zone);
                    let r = self.asset_addr(file, addr);
                    if let (Some(z), Some(r)) = (z, r) {
                        asset.interfaces.push(AssetInterface {
                            zone: z,
                            addr: r,
                            span: Self::span(file, sspan),
                        });
                    }
                }
                ast::AssetStmt::Bridge(_) => asset.bridge = true,
                ast::AssetStmt::Description(d) => asset.description = Some(d.value.clone()),
                ast::AssetStmt::Compensating(body, cspan) => {
                    let c = self.compensating(file, &a.name.name, body, *cspan);
                    asset.compensating.push(c);
                }
            }
        }
        asset
    }

    fn compensating(
        &mut self,
        file: u32,
        asset: &str,
        body: &[Stmt<ast::CompStmt>],
        span: ast::Span,
    ) -> CompensatingControl {
        // Completeness is a property of what is written: a `relies_on` naming nothing is
        // reported as such, not as a missing `relies_on`; after a syntax error, not at all.
        let missing = unwritten(
            body,
            &[
                (|s| matches!(s, ast::CompStmt::Covers(_)), "`covers`"),
                (|s| matches!(s, ast::CompStmt::ReliesOn(_)), "`relies_on`"),
                (|s| matches!(s, ast::CompStmt::Because(_)), "`because`"),
                (|s| matches!(s, ast::CompStmt::Owner(_)), "`owner`"),
                (|s| matches!(s, ast::CompStmt::Expires(..)), "`expires`"),
            ],
        );
        if !missing.is_empty() && !has_syntax_errors(body) {
            // The keyword, not the whole block.
            let head = ast::Span {
                start: span.start,
                end: span
                    .start
                    .saturating_add("compensating".len() as u32)
                    .min(span.end),
            };
            let d = Diagnostic::error("E0604", format!("compensating control of `{asset}` lacks {}", missing.join(", ")))
                .primary(self.loc(file, head), "incomplete justification")
                .help("a compensating control states the FRs it covers, what it relies on, why, who owns it and when it expires");
            self.diags.push(d);
        }
        let mut c = CompensatingControl {
            covers: Vec::new(),
            relies_on: None,
            because: None,
            owner: None,
            expires: None,
            span: Self::span(file, span),
        };
        for (stmt, _) in stmts(body) {
            match stmt {
                ast::CompStmt::Covers(frs) => {
                    for fr in frs {
                        match FR_NAMES.iter().position(|n| *n == fr.name) {
                            Some(i) => c.covers.push(i as u8),
                            None => {
                                let hint = fr_hint(&fr.name);
                                let d = Diagnostic::error(
                                    "E0203",
                                    format!("unknown foundational requirement `{}`", fr.name),
                                )
                                .primary(self.loc(file, fr.span), "expected FR1 … FR7")
                                .help(hint);
                                self.diags.push(d);
                            }
                        }
                    }
                }
                ast::CompStmt::ReliesOn(r) => {
                    c.relies_on = match r {
                        ast::Reliance::Gateway(n) => self
                            .reliance(file, n, SymbolKind::Gateway)
                            .map(|id| Reliance::Gateway(DeviceId(id))),
                        ast::Reliance::Firewall(n) => self
                            .reliance(file, n, SymbolKind::Firewall)
                            .map(|id| Reliance::Firewall(DeviceId(id))),
                        ast::Reliance::Conduit(n) => self
                            .reliance(file, n, SymbolKind::Conduit)
                            .map(|id| Reliance::Conduit(ConduitId(id))),
                        ast::Reliance::Isolation(_) => Some(Reliance::Isolation),
                    };
                }
                ast::CompStmt::Because(s) => c.because = Some(s.value.clone()),
                ast::CompStmt::Owner(s) => c.owner = Some(s.value.clone()),
                ast::CompStmt::Expires((y, m, d), _) => {
                    c.expires = Some(format!("{y:04}-{m:02}-{d:02}"))
                }
            }
        }
        c.covers.sort();
        c.covers.dedup();
        c
    }

    /// `relies_on gateway X` must name a gateway, `firewall X` a firewall and `conduit X` a
    /// conduit (E0602 when it names something else or nothing). Returns the kind-local id.
    fn reliance(&mut self, file: u32, name: &ast::Ident, want: SymbolKind) -> Option<u32> {
        match self.names.get(&name.name).copied() {
            Some(d) if d.kind == want => Some(d.id),
            Some(d) => {
                let diag = Diagnostic::error(
                    "E0602",
                    format!(
                        "the compensating control relies on {} `{}`, which is {}",
                        want.describe(),
                        name.name,
                        a(d.kind.describe())
                    ),
                )
                .primary(
                    self.loc(file, name.span),
                    format!("not a {}", want.describe()),
                )
                .secondary(self.loc(d.file, d.span), "defined here");
                self.diags.push(diag);
                None
            }
            None => {
                let diag = Diagnostic::error(
                    "E0602",
                    format!(
                        "the compensating control relies on {} `{}`, which does not exist",
                        want.describe(),
                        name.name
                    ),
                )
                .primary(self.loc(file, name.span), "nothing of that name");
                let diag = match self.suggest(&name.name, &[want]) {
                    Some(h) => diag.help(h),
                    None => diag,
                };
                self.diags.push(diag);
                None
            }
        }
    }

    // ------------------------------------------------------------ groups and endpoints

    fn lower_groups(&mut self) {
        let mut groups: Vec<(u32, &'a ast::Item, &'a ast::Group)> = Vec::new();
        for (file, item) in self.items() {
            if let ItemKind::Group(g) = &item.kind {
                groups.push((file, item, g));
            }
        }
        // Placeholders first so that members can refer to groups declared later.
        for (file, item, g) in &groups {
            self.policy.to_mut().groups.push(ir::Group {
                name: g.name.name.clone(),
                members: Vec::new(),
                addrs: Vec::new(),
                span: Self::span(*file, item.span),
            });
        }
        for (idx, (file, _, g)) in groups.iter().enumerate() {
            self.resolving_groups.push(idx as u32);
            let mut members = Vec::new();
            for m in &g.members {
                if let Some(ep) = self.endpoint(*file, m, None) {
                    members.push(ep);
                }
            }
            self.resolving_groups.pop();
            let addrs = merge(
                members
                    .iter()
                    .flat_map(|m| m.addrs.iter().copied())
                    .collect(),
            );
            self.resolved_groups
                .to_mut()
                .insert(idx as u32, addrs.clone());
            if let Some(grp) = self.policy.to_mut().groups.get_mut(idx) {
                grp.members = members;
                grp.addrs = addrs;
            }
        }
    }

    fn group_addrs(&mut self, id: u32, file: u32, name: &ast::Ident) -> Vec<AddrRange> {
        if let Some(a) = self.resolved_groups.get(&id) {
            return a.clone();
        }
        // Every group is resolved with the scope; conduits only read them.
        if self.stage != Stage::Scope {
            return Vec::new();
        }
        if self.resolving_groups.contains(&id) {
            let d = Diagnostic::error("E0105", format!("group `{}` contains itself", name.name))
                .primary(
                    self.loc(file, name.span),
                    "this member refers back to the group being defined",
                );
            self.diags.push(d);
            return Vec::new();
        }
        // A group used before its own turn: resolve it now.
        let group = self.items().find_map(|(f, it)| match &it.kind {
            ItemKind::Group(g)
                if self.is_live(&g.name, f)
                    && self.names.get(&g.name.name).is_some_and(|d| d.id == id) =>
            {
                Some((f, g))
            }
            _ => None,
        });
        let Some((gfile, g)) = group else {
            return Vec::new();
        };
        self.resolving_groups.push(id);
        let mut addrs = Vec::new();
        for m in &g.members {
            if let Some(ep) = self.endpoint(gfile, m, None) {
                addrs.extend(ep.addrs);
            }
        }
        self.resolving_groups.pop();
        let addrs = merge(addrs);
        self.resolved_groups.to_mut().insert(id, addrs.clone());
        addrs
    }

    /// Merge each zone's networks once, after the zones are lowered (`external`: what no zone
    /// owns). Endpoints read them many times.
    fn index_zone_addrs(&mut self) {
        let owned = merge(
            self.policy
                .zones
                .iter()
                .flat_map(|z| z.networks.iter().map(|n| n.range()))
                .collect(),
        );
        let mut all = vec![complement(&owned)];
        all.extend(
            self.policy
                .zones
                .iter()
                .skip(1)
                .map(|z| merge(z.networks.iter().map(|n| n.range()).collect())),
        );
        self.zone_addrs = Cow::Owned(all);
    }

    fn external_addrs(&self) -> Vec<AddrRange> {
        self.zone_addrs(EXTERNAL)
    }

    fn zone_addrs(&self, zone: ZoneId) -> Vec<AddrRange> {
        self.zone_addrs
            .get(zone.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Resolve a rule endpoint, group member or scope entry. `side` is the zone `any` means.
    fn endpoint(
        &mut self,
        file: u32,
        ep: &ast::Endpoint,
        side: Option<ZoneId>,
    ) -> Option<Endpoint> {
        let span = Self::span(file, ep.span());
        match ep {
            ast::Endpoint::Any(s) => {
                let Some(zone) = side else {
                    let d =
                        Diagnostic::error("E0103", "`any` is only meaningful in a conduit rule")
                            .primary(self.loc(file, *s), "name the zones or assets instead");
                    self.diags.push(d);
                    return None;
                };
                Some(Endpoint {
                    label: "any".into(),
                    target: EndpointRef::Any,
                    addrs: self.zone_addrs(zone),
                    span,
                })
            }
            ast::Endpoint::Value(v) => {
                let addrs = match v {
                    ast::Value::Ip(ip, _) => vec![AddrRange::single(ip.v6, ip.value)],
                    ast::Value::Net(n, s) => vec![self.cidr(file, *n, *s).range()],
                    ast::Value::IpRange(a, b, s) => vec![self.ip_range(file, *a, *b, *s)?],
                    ast::Value::Int(_) | ast::Value::Str(_) => {
                        let d =
                            Diagnostic::error("E0207", "expected an address, a network or a name")
                                .primary(self.loc(file, v.span()), "not an address");
                        self.diags.push(d);
                        return None;
                    }
                };
                Some(Endpoint {
                    label: label_of(self.inputs, file, ep.span()),
                    target: EndpointRef::Literal,
                    addrs,
                    span,
                })
            }
            ast::Endpoint::Name(n) => {
                if n.name == "external" {
                    return Some(Endpoint {
                        label: "external".into(),
                        target: EndpointRef::Zone(EXTERNAL),
                        addrs: self.external_addrs(),
                        span,
                    });
                }
                let d = self.resolve(
                    file,
                    n,
                    &[
                        SymbolKind::Asset,
                        SymbolKind::Zone,
                        SymbolKind::Group,
                        SymbolKind::Const,
                    ],
                )?;
                let (target, addrs) = match d.kind {
                    SymbolKind::Asset => {
                        let a = self.policy.asset(AssetId(d.id))?;
                        // A bridge asset is addressed by its interface in the side's zone.
                        let addr = match side {
                            Some(z) if a.zone != z => a
                                .interfaces
                                .iter()
                                .find(|i| i.zone == z)
                                .map(|i| i.addr)
                                .unwrap_or(a.addr),
                            _ => a.addr,
                        };
                        (EndpointRef::Asset(AssetId(d.id)), vec![addr])
                    }
                    SymbolKind::Zone => (
                        EndpointRef::Zone(ZoneId(d.id)),
                        self.zone_addrs(ZoneId(d.id)),
                    ),
                    SymbolKind::Group => (
                        EndpointRef::Group(GroupId(d.id)),
                        self.group_addrs(d.id, file, n),
                    ),
                    _ => match self.consts.get(&n.name) {
                        Some(ConstValue::Addr(r)) => (EndpointRef::Literal, vec![*r]),
                        Some(ConstValue::Net(c)) => (EndpointRef::Literal, vec![c.range()]),
                        _ => {
                            let d = Diagnostic::error(
                                "E0211",
                                format!("constant `{}` is not an address", n.name),
                            )
                            .primary(
                                self.loc(file, n.span),
                                "expected an address, a network or a range",
                            );
                            self.diags.push(d);
                            return None;
                        }
                    },
                };
                Some(Endpoint {
                    label: n.name.clone(),
                    target,
                    addrs,
                    span,
                })
            }
        }
    }

    // ------------------------------------------------------------ topology

    fn lower_devices_and_links(&mut self) {
        for (file, item) in self.items() {
            match &item.kind {
                ItemKind::Device(d) => {
                    let kind = match d.kind {
                        ast::DeviceKind::Firewall => DeviceKind::Firewall,
                        ast::DeviceKind::Gateway => DeviceKind::Gateway,
                    };
                    let mut dev = ir::Device {
                        name: d.name.name.clone(),
                        title: title(&d.title),
                        description: None,
                        kind,
                        target: None,
                        interfaces: Vec::new(),
                        inline: false,
                        mode: GatewayMode::Ips,
                        span: Self::span(file, item.span),
                    };
                    for (stmt, sspan) in stmts(&d.stmts) {
                        match stmt {
                            ast::DeviceStmt::Target(t) => {
                                match Target::from_name(&t.name) {
                                    Some(target) if target.fits(kind) => dev.target = Some(target),
                                    Some(target) => {
                                        let diag = Diagnostic::error("E0206", format!("a {} cannot have the target `{}`", kind_name(kind), target.name()))
                                        .primary(self.loc(file, t.span), "wrong kind of target")
                                        .help(if kind == DeviceKind::Firewall { "firewalls take `nftables`, `iptables` or `cisco_ios`" } else { "gateways take `suricata` or `allowlist_json`" });
                                        self.diags.push(diag);
                                    }
                                    None => {
                                        let hint = did_you_mean(&t.name, ["nftables", "iptables", "cisco_ios", "suricata", "allowlist_json"])
                                        .unwrap_or_else(|| "targets: nftables, iptables, cisco_ios (firewalls); suricata, allowlist_json (gateways)".into());
                                        let diag = Diagnostic::error(
                                            "E0206",
                                            format!("unknown target `{}`", t.name),
                                        )
                                        .primary(self.loc(file, t.span), "not a target")
                                        .help(hint);
                                        self.diags.push(diag);
                                    }
                                }
                            }
                            ast::DeviceStmt::Interface { name, faces } => {
                                let faces: Vec<ZoneId> = faces
                                    .iter()
                                    .filter_map(|z| self.resolve_zone(file, z))
                                    .collect();
                                if let Some(prev) =
                                    dev.interfaces.iter().find(|i| i.name == name.value)
                                {
                                    let diag = Diagnostic::error(
                                        "E0102",
                                        format!(
                                            "interface \"{}\" is declared twice on `{}`",
                                            name.value.escape_debug(),
                                            d.name.name
                                        ),
                                    )
                                    .primary(self.loc(file, name.span), "second declaration")
                                    .secondary(
                                        self.policy.location(prev.span),
                                        "first declaration",
                                    );
                                    self.diags.push(diag);
                                    continue;
                                }
                                if !valid_interface_name(&name.value) {
                                    let diag = Diagnostic::error("E0208", format!("\"{}\" is not a usable interface name", name.value.escape_debug()))
                                        .primary(self.loc(file, name.span), "interface names are 1-32 characters of letters, digits, `.`, `-`, `_` and `/`")
                                        .help("the name is written into firewall rulesets as it is");
                                    self.diags.push(diag);
                                    continue;
                                }
                                dev.interfaces.push(DeviceInterface {
                                    name: name.value.clone(),
                                    faces,
                                    span: Self::span(file, sspan),
                                });
                            }
                            ast::DeviceStmt::Inline(a, b) => {
                                let za = self.resolve_zone(file, a);
                                let zb = self.resolve_zone(file, b);
                                if let (Some(za), Some(zb)) = (za, zb) {
                                    dev.inline = true;
                                    for (z, ident) in [(za, a), (zb, b)] {
                                        dev.interfaces.push(DeviceInterface {
                                            name: ident.name.clone(),
                                            faces: vec![z],
                                            span: Self::span(file, sspan),
                                        });
                                    }
                                }
                            }
                            ast::DeviceStmt::Mode(m) => self.device_mode(file, &mut dev, m),
                            ast::DeviceStmt::Description(s) => {
                                dev.description = Some(s.value.clone())
                            }
                        }
                    }
                    if dev.target.is_none()
                        && !has_syntax_errors(&d.stmts)
                        && !self.diags.iter().any(|x| {
                            x.code == "E0206"
                                && x.primary_location().is_some_and(|l| {
                                    l.start >= item.span.start && l.end <= item.span.end
                                })
                        })
                    {
                        let diag = Diagnostic::error(
                            "E0206",
                            format!("{} `{}` has no target", kind_name(kind), d.name.name),
                        )
                        .primary(self.loc(file, d.name.span), "no `target` here")
                        .help(if kind == DeviceKind::Firewall {
                            "add `target nftables` (or `iptables`, `cisco_ios`)"
                        } else {
                            "add `target suricata` (or `allowlist_json`)"
                        });
                        self.diags.push(diag);
                    }
                    self.policy.to_mut().devices.push(dev);
                }
                ItemKind::Link(k) => {
                    let zones: Vec<ZoneId> = k
                        .zones
                        .iter()
                        .filter_map(|z| self.resolve_zone(file, z))
                        .collect();
                    self.policy.to_mut().links.push(ir::Link {
                        name: k.name.name.clone(),
                        title: title(&k.title),
                        zones,
                        span: Self::span(file, item.span),
                    });
                }
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------ conduits and rules

    /// The conduits of one file, with their rules, and the `opens` entries naming them that no
    /// rule of theirs answers (E0702).
    fn lower_conduits(&mut self, file: u32) {
        let Some(input) = self.inputs.get(file as usize) else {
            return;
        };
        let mut next = self.conduit_base.get(file as usize).copied().unwrap_or(0);
        for item in &input.file.items {
            let ItemKind::Conduit(c) = &item.kind else {
                continue;
            };
            let conduit_id = ConduitId(next);
            next += 1;
            let (from, to) = (
                self.resolve_zone(file, &c.from),
                self.resolve_zone(file, &c.to),
            );
            // An end that does not resolve is reported already. Standing `external` in for it
            // would make the topology check and every rule report that guess, so the conduit
            // lies on its other end and its rules' sides go unchecked.
            let resolved = from.is_some() && to.is_some();
            let (from, to) = match (from, to) {
                (Some(f), Some(t)) => (f, t),
                (Some(z), None) | (None, Some(z)) => (z, z),
                (None, None) => (EXTERNAL, EXTERNAL),
            };
            let mut conduit = ir::Conduit {
                name: c.name.name.clone(),
                title: title(&c.title),
                description: None,
                from,
                to,
                bidirectional: c.bidirectional,
                unidirectional: false,
                log: false,
                security_level: None,
                rules: Vec::new(),
                span: Self::span(file, item.span),
            };
            if from == to && resolved {
                let d = Diagnostic::error("E0406", format!("conduit `{}` goes from zone `{}` to itself", c.name.name, c.from.name))
                    .primary(self.loc(file, c.from.span.to(c.to.span)), "both ends are the same zone")
                    .help("inside a zone hosts reach each other freely; a conduit joins two different zones");
                self.diags.push(d);
            }
            let mut index = 0u32;
            for (stmt, _) in stmts(&c.stmts) {
                match stmt {
                    ast::ConduitStmt::SecurityLevel(l) => {
                        conduit.security_level = self.level(file, l)
                    }
                    ast::ConduitStmt::Log(_) => conduit.log = true,
                    ast::ConduitStmt::Unidirectional(span) => {
                        conduit.unidirectional = true;
                        if c.bidirectional {
                            let d = Diagnostic::error(
                                "E0407",
                                format!(
                                    "conduit `{}` is unidirectional but declared `<->`",
                                    c.name.name
                                ),
                            )
                            .primary(
                                self.loc(file, *span),
                                "a diode carries traffic one way only",
                            )
                            .secondary(
                                self.loc(file, c.from.span.to(c.to.span)),
                                "declared both ways here",
                            )
                            .help(format!(
                                "write the conduit `{} -> {}`",
                                c.from.name, c.to.name
                            ));
                            self.diags.push(d);
                        }
                    }
                    ast::ConduitStmt::Description(d) => conduit.description = Some(d.value.clone()),
                    ast::ConduitStmt::Allow(rule) => {
                        let zone_spans = (c.from.span, c.to.span);
                        if let Some(r) = self.rule(
                            file, conduit_id, index, &conduit, rule, zone_spans, resolved,
                        ) {
                            conduit.rules.push(RuleId(self.rules.len() as u32));
                            self.rules.push(r);
                        }
                        index += 1;
                    }
                }
            }
            self.unanswered_opens(conduit_id, &conduit);
            self.conduits.push(conduit);
        }
    }

    /// E0702: a work order `opens` this conduit, but none of its rules names the order.
    /// Reported at the `opens` entry, which may be in another file.
    fn unanswered_opens(&mut self, id: ConduitId, conduit: &Conduit) {
        for (k, (wo, _, at)) in self.opens.iter().enumerate().filter(|(_, o)| o.1 == id) {
            let names_it = conduit.rules.iter().any(|r| {
                self.rules
                    .get(r.0 as usize)
                    .is_some_and(|r| r.workorder == Some(*wo))
            });
            if names_it {
                continue;
            }
            let at = self
                .positioned
                .and_then(|p| p().opens.get(k).map(|o| o.2.clone()))
                .unwrap_or_else(|| at.clone());
            let wo_name = self
                .policy
                .workorder(*wo)
                .map(|w| w.name.as_str())
                .unwrap_or("?");
            let diag = Diagnostic::error("E0702", format!("work order `{wo_name}` opens conduit `{}`, but no rule there names it", conduit.name))
                .primary(at, format!("no rule of `{}` is `when workorder {wo_name}`", conduit.name))
                .secondary(self.policy.location(conduit.span), "the conduit")
                .help(format!("add `when workorder {wo_name}` to the rules it should open, or drop the conduit from `opens`"));
            self.diags.push(diag);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rule(
        &mut self,
        file: u32,
        conduit_id: ConduitId,
        index: u32,
        c: &ir::Conduit,
        rule: &ast::Rule,
        zone_spans: (ast::Span, ast::Span),
        sides_known: bool,
    ) -> Option<Rule> {
        let (from, to) = (c.from, c.to);
        // For `<->`, the direction is decided by where the source lies.
        let src_side = if c.bidirectional {
            match self.endpoint_zone_hint(&rule.src) {
                Some(z) if z == to => to,
                _ => from,
            }
        } else {
            from
        };
        let dst_side = if src_side == from { to } else { from };
        let src = self.endpoint(file, &rule.src, Some(src_side));
        let dst = self.endpoint(file, &rule.dst, Some(dst_side));
        let mut services = Vec::new();
        for s in &rule.services {
            if let Some(d) = self.resolve(file, s, &[SymbolKind::Service]) {
                services.push(ServiceId(d.id));
            }
        }
        let workorder = match &rule.when {
            Some(w) => Some(WorkOrderId(
                self.resolve(file, w, &[SymbolKind::WorkOrder])?.id,
            )),
            None => None,
        };
        let fields = match &rule.constraints {
            Some(cs) => self.constraints(file, cs, &services, rule),
            None => None,
        };
        let (src, dst) = (src?, dst?);
        for (ep, side, what) in [(&src, src_side, "source"), (&dst, dst_side, "destination")] {
            if sides_known
                && !ep.addrs.iter().any(AddrRange::is_unresolved)
                && !self.addrs_in_zone(&ep.addrs, side)
            {
                let zone = self.policy.zone_name(side).to_string();
                let code = if what == "source" { "E0401" } else { "E0402" };
                let mut d = Diagnostic::error(
                    code,
                    format!("the {what} `{}` is not in zone `{zone}`", ep.label),
                )
                .primary(self.policy.location(ep.span), format!("outside `{zone}`"))
                .secondary(
                    self.loc(
                        file,
                        if side == from {
                            zone_spans.0
                        } else {
                            zone_spans.1
                        },
                    ),
                    format!(
                        "conduit `{}` runs {} {} {}",
                        c.name,
                        self.policy.zone_name(from),
                        if c.bidirectional { "<->" } else { "->" },
                        self.policy.zone_name(to)
                    ),
                );
                d = if c.bidirectional {
                    d.help("in a `<->` conduit each rule goes from one of its zones to the other")
                } else if self.addrs_in_zone(&ep.addrs, if side == from { to } else { from }) {
                    d.help("this rule goes against the conduit's direction; write a conduit the other way or use `<->`")
                } else {
                    d.help("a conduit rule may only name hosts of the two zones it joins")
                };
                self.diags.push(d);
            }
        }
        Some(Rule {
            conduit: conduit_id,
            index,
            from: src_side,
            to: dst_side,
            src,
            dst,
            services,
            fields,
            workorder,
            span: Self::span(file, rule.span),
        })
    }

    /// Which zone a named endpoint belongs to, before full resolution (for `<->`).
    fn endpoint_zone_hint(&self, ep: &ast::Endpoint) -> Option<ZoneId> {
        match ep {
            ast::Endpoint::Name(n) if n.name == "external" => Some(EXTERNAL),
            ast::Endpoint::Name(n) => match self.names.get(&n.name) {
                Some(d) if d.kind == SymbolKind::Asset => {
                    self.policy.asset(AssetId(d.id)).map(|a| a.zone)
                }
                Some(d) if d.kind == SymbolKind::Zone => Some(ZoneId(d.id)),
                Some(d) if d.kind == SymbolKind::Group => self
                    .resolved_groups
                    .get(&d.id)
                    .and_then(|a| a.first())
                    .map(|r| self.policy.zone_of(AddrRange::single(r.v6, r.lo))),
                Some(d) if d.kind == SymbolKind::Const => match self.consts.get(&n.name) {
                    Some(ConstValue::Addr(r)) => {
                        Some(self.policy.zone_of(AddrRange::single(r.v6, r.lo)))
                    }
                    Some(ConstValue::Net(c)) => {
                        Some(self.policy.zone_of(AddrRange::single(c.v6, c.addr)))
                    }
                    _ => None,
                },
                _ => None,
            },
            ast::Endpoint::Value(v) => match v {
                ast::Value::Ip(ip, _) => {
                    Some(self.policy.zone_of(AddrRange::single(ip.v6, ip.value)))
                }
                ast::Value::Net(n, _) => Some(
                    self.policy
                        .zone_of(AddrRange::single(n.addr.v6, n.addr.value)),
                ),
                ast::Value::IpRange(a, _, _) => {
                    Some(self.policy.zone_of(AddrRange::single(a.v6, a.value)))
                }
                _ => None,
            },
            ast::Endpoint::Any(_) => None,
        }
    }

    fn addrs_in_zone(&self, addrs: &[AddrRange], zone: ZoneId) -> bool {
        if zone == EXTERNAL {
            let owned: Vec<AddrRange> = self
                .policy
                .zones
                .iter()
                .flat_map(|z| z.networks.iter().map(|n| n.range()))
                .collect();
            return addrs.iter().all(|a| !owned.iter().any(|o| o.overlaps(a)));
        }
        let nets = self.zone_addrs(zone);
        addrs.iter().all(|a| nets.iter().any(|n| n.contains(a)))
    }

    fn constraints(
        &mut self,
        file: u32,
        cs: &[Stmt<ast::Constraint>],
        services: &[ServiceId],
        rule: &ast::Rule,
    ) -> Option<FieldConstraints> {
        let families: Vec<Option<ProtocolFamily>> = self
            .policy
            .leaf_services(services)
            .iter()
            .map(|s| self.policy.service(*s).and_then(|s| s.inspect))
            .collect();
        let family = match families.first().copied().flatten() {
            Some(f) if families.iter().all(|x| *x == Some(f)) => f,
            _ => {
                let names: Vec<String> = rule
                    .services
                    .iter()
                    .map(|s| format!("`{}`", s.name))
                    .collect();
                let span = cs.first().map(|s| s.span).unwrap_or(rule.span);
                let names = one_of(&names.iter().map(String::as_str).collect::<Vec<_>>())
                    .replace(" or ", " and ");
                // Every service inspectable, but not all by the same family: the fields mean
                // different things, so say that rather than "cannot be inspected".
                let d = if families.iter().all(Option::is_some) {
                    Diagnostic::error(
                        "E0208",
                        format!("protocol constraints on {names}, which are different protocols"),
                    )
                    .primary(
                        self.loc(file, span),
                        "one set of fields cannot apply to several protocols",
                    )
                    .help("write one rule per protocol, each with its own constraints")
                } else {
                    Diagnostic::error("E0208", format!("protocol constraints on {names}, which cannot be inspected"))
                        .primary(self.loc(file, span), "constraints need a service with `inspect modbus`, `dnp3` or `cip`")
                        .help("protocol fields exist only for Modbus, DNP3 and CIP services; write one rule per protocol")
                };
                if !services.is_empty() {
                    self.diags.push(d);
                }
                return None;
            }
        };
        let catalogue = self.protocols.get(family.name()).cloned();
        let mut fc = FieldConstraints {
            family,
            functions: Vec::new(),
            units: Vec::new(),
            registers: Vec::new(),
            span: Self::span(file, cs.first().map(|s| s.span).unwrap_or(rule.span)),
        };
        for (c, span) in stmts(cs) {
            let key = c.key.name.as_str();
            if !family.keys().contains(&key) {
                let keys: Vec<String> = family.keys().iter().map(|k| format!("`{k}`")).collect();
                let d = Diagnostic::error(
                    "E0208",
                    format!("`{}` is not a field of {}", key, family.name()),
                )
                .primary(
                    self.loc(file, c.key.span),
                    format!("{} constraints are {}", family.name(), keys.join(", ")),
                );
                let d = match did_you_mean(key, family.keys().iter().copied()) {
                    Some(h) => d.help(h),
                    None => d,
                };
                self.diags.push(d);
                continue;
            }
            for v in &c.values {
                match key {
                    "function" | "service" => {
                        self.function_value(file, family, catalogue.as_ref(), v, &mut fc.functions)
                    }
                    "unit" => {
                        if let Some(r) = self.range_value(file, v, 255, "unit id") {
                            fc.units.push(r);
                        }
                    }
                    _ => {
                        if let Some(r) = self.range_value(file, v, 65535, "register address") {
                            fc.registers.push(r);
                        }
                    }
                }
            }
            let _ = span;
        }
        fc.functions.sort_by_key(|f| f.code);
        fc.functions.dedup_by_key(|f| f.code);
        fc.units.sort();
        fc.registers.sort();
        Some(fc)
    }

    fn function_value(
        &mut self,
        file: u32,
        family: ProtocolFamily,
        catalogue: Option<&ir::Protocol>,
        v: &ast::ListValue,
        out: &mut Vec<NamedCode>,
    ) {
        let lookup_code =
            |code: u8| catalogue.and_then(|c| c.functions.iter().find(|f| f.code == code));
        match v {
            ast::ListValue::Name(n) => {
                match catalogue.and_then(|c| c.functions.iter().find(|f| f.name == n.name)) {
                    Some(f) => out.push(NamedCode {
                        code: f.code,
                        name: Some(f.name.clone()),
                        access: Some(f.access),
                    }),
                    None => {
                        let hint = catalogue.and_then(|c| {
                            did_you_mean(&n.name, c.functions.iter().map(|f| f.name.as_str()))
                        });
                        let d = Diagnostic::error(
                            "E0204",
                            format!("unknown {} function `{}`", family.name(), n.name),
                        )
                        .primary(
                            self.loc(file, n.span),
                            format!("not in the {} catalogue", family.name()),
                        );
                        let d = match hint {
                        Some(h) => d.help(h),
                        None => d.help("write the function's number, or add it to the site's `protocol` catalogue"),
                    };
                        self.diags.push(d);
                    }
                }
            }
            ast::ListValue::Int(i) => {
                if i.value > family.max_code() {
                    let d = Diagnostic::error(
                        "E0204",
                        format!(
                            "function code {} is out of range for {}",
                            i.value,
                            family.name()
                        ),
                    )
                    .primary(
                        self.loc(file, i.span),
                        format!("at most {}", family.max_code()),
                    );
                    self.diags.push(d);
                    return;
                }
                let code = i.value as u8;
                let f = lookup_code(code);
                out.push(NamedCode {
                    code,
                    name: f.map(|f| f.name.clone()),
                    access: f.map(|f| f.access),
                });
            }
            ast::ListValue::Range(a, b) => {
                if a.value > b.value || b.value > family.max_code() {
                    let d = Diagnostic::error(
                        "E0204",
                        format!(
                            "function codes {}-{} are not a valid range for {}",
                            a.value,
                            b.value,
                            family.name()
                        ),
                    )
                    .primary(
                        self.loc(file, a.span.to(b.span)),
                        format!("codes run from 0 to {}, lower first", family.max_code()),
                    );
                    self.diags.push(d);
                    return;
                }
                for code in a.value..=b.value {
                    let code = code as u8;
                    let f = lookup_code(code);
                    out.push(NamedCode {
                        code,
                        name: f.map(|f| f.name.clone()),
                        access: f.map(|f| f.access),
                    });
                }
            }
        }
    }

    fn range_value(
        &mut self,
        file: u32,
        v: &ast::ListValue,
        max: u64,
        what: &str,
    ) -> Option<(u16, u16)> {
        let (lo, hi, span) = match v {
            ast::ListValue::Int(i) => (i.value, i.value, i.span),
            ast::ListValue::Range(a, b) => (a.value, b.value, a.span.to(b.span)),
            ast::ListValue::Name(n) => {
                let d =
                    Diagnostic::error("E0204", format!("a {what} is a number, not `{}`", n.name))
                        .primary(
                            self.loc(file, n.span),
                            "expected a number or a range such as `0-99`",
                        );
                self.diags.push(d);
                return None;
            }
        };
        if lo > hi || hi > max {
            let shown = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            let d = Diagnostic::error("E0204", format!("{what} {shown} is out of range")).primary(
                self.loc(file, span),
                format!("a {what} runs from 0 to {max}, lower first"),
            );
            self.diags.push(d);
            return None;
        }
        Some((lo as u16, hi as u16))
    }

    // ------------------------------------------------------------ work orders

    /// Work orders are pushed before conduits so that rules can name them by id.
    fn lower_workorders_header(&mut self) {
        for (file, item) in self.items() {
            if let ItemKind::WorkOrder(w) = &item.kind {
                self.policy.to_mut().workorders.push(ir::WorkOrder {
                    name: w.name.name.clone(),
                    title: title(&w.title),
                    description: None,
                    scope: Vec::new(),
                    requested_by: Vec::new(),
                    approvals: Vec::new(),
                    separation_of_duties: false,
                    prerequisites: Vec::new(),
                    windows: Vec::new(),
                    max_duration: None,
                    emergency: false,
                    review_after: None,
                    opens: Vec::new(),
                    rules: Vec::new(),
                    span: Self::span(file, item.span),
                });
            }
        }
    }

    fn roles(&mut self, file: u32, names: &[ast::Ident]) -> Vec<RoleId> {
        names
            .iter()
            .filter_map(|n| {
                self.resolve(file, n, &[SymbolKind::Role])
                    .map(|d| RoleId(d.id))
            })
            .collect()
    }

    fn lower_workorders(&mut self) {
        let mut idx = 0usize;
        for (file, item) in self.items() {
            let ItemKind::WorkOrder(w) = &item.kind else {
                continue;
            };
            let mut wo = match self.policy.workorders.get(idx) {
                Some(wo) => wo.clone(),
                None => break,
            };
            let my_id = WorkOrderId(idx as u32);
            for (stmt, _) in stmts(&w.stmts) {
                match stmt {
                    ast::WorkOrderStmt::Scope(items) => {
                        for n in items {
                            match self.resolve(file, n, &[SymbolKind::Zone, SymbolKind::Asset]) {
                                Some(d) if d.kind == SymbolKind::Zone => {
                                    wo.scope.push(ScopeItem::Zone(ZoneId(d.id)))
                                }
                                Some(d) => wo.scope.push(ScopeItem::Asset(AssetId(d.id))),
                                None => {}
                            }
                        }
                    }
                    ast::WorkOrderStmt::RequestedBy(r) => {
                        let roles = self.roles(file, r);
                        wo.requested_by.extend(roles);
                    }
                    ast::WorkOrderStmt::ApprovedBy(a) => match a {
                        ast::Approval::AllOf(r) => {
                            let roles = self.roles(file, r);
                            wo.approvals.push(Approval::AllOf { roles });
                        }
                        ast::Approval::NOf(n, r) => {
                            let roles = self.roles(file, r);
                            if n.value == 0 || n.value as usize > 1000 {
                                let d = Diagnostic::error(
                                    "E0704",
                                    format!("a quorum of {} approvers is not meaningful", n.value),
                                )
                                .primary(self.loc(file, n.span), "expected at least 1");
                                self.diags.push(d);
                            }
                            wo.approvals.push(Approval::NOf {
                                n: n.value.min(1000) as u32,
                                roles,
                            });
                        }
                    },
                    ast::WorkOrderStmt::SeparationOfDuties(_) => wo.separation_of_duties = true,
                    ast::WorkOrderStmt::Prerequisite(n, t) => wo.prerequisites.push(Prerequisite {
                        name: n.name.clone(),
                        title: title(t),
                    }),
                    ast::WorkOrderStmt::Window(win) => {
                        if let Some(tw) = self.window(file, win) {
                            wo.windows.push(tw);
                        }
                    }
                    ast::WorkOrderStmt::Opens(cs) => {
                        for c in cs {
                            if let Some(d) = self.resolve(file, c, &[SymbolKind::Conduit]) {
                                wo.opens.push(ConduitId(d.id));
                                // Whether a rule of the conduit names this order is checked
                                // with the conduit's rules (`unanswered_opens`).
                                let at = self.loc(file, c.span);
                                self.opens.to_mut().push((my_id, ConduitId(d.id), at));
                            }
                        }
                    }
                    ast::WorkOrderStmt::MaxDuration(d, _) => wo.max_duration = Some(*d),
                    ast::WorkOrderStmt::Emergency(_) => wo.emergency = true,
                    ast::WorkOrderStmt::ReviewAfter(d, _) => wo.review_after = Some(*d),
                    ast::WorkOrderStmt::Description(d) => wo.description = Some(d.value.clone()),
                }
            }
            // Completeness is a property of what is written (see `compensating`).
            let mut missing = unwritten(
                &w.stmts,
                &[
                    (|s| matches!(s, ast::WorkOrderStmt::Scope(_)), "`scope`"),
                    (
                        |s| matches!(s, ast::WorkOrderStmt::RequestedBy(_)),
                        "`requested_by`",
                    ),
                    (
                        |s| matches!(s, ast::WorkOrderStmt::ApprovedBy(_)),
                        "`approved_by`",
                    ),
                    (
                        |s| matches!(s, ast::WorkOrderStmt::MaxDuration(..)),
                        "`max_duration`",
                    ),
                ],
            );
            if wo.emergency {
                missing.extend(unwritten(
                    &w.stmts,
                    &[(
                        |s| matches!(s, ast::WorkOrderStmt::ReviewAfter(..)),
                        "`review_after` (an emergency order is reviewed after the fact)",
                    )],
                ));
            }
            if !missing.is_empty() && !has_syntax_errors(&w.stmts) {
                let head = ast::Span {
                    start: item.span.start,
                    end: w.name.span.end,
                };
                let d = Diagnostic::error("E0704", format!("work order `{}` lacks {}", w.name.name, missing.join(", ")))
                    .primary(self.loc(file, head), "incomplete work order")
                    .help("every work order says what it touches, who requests and approves it, and how long an opening may last");
                self.diags.push(d);
            }
            if let Some(slot) = self.policy.to_mut().workorders.get_mut(idx) {
                *slot = wo;
            }
            idx += 1;
        }
    }

    fn window(&mut self, file: u32, w: &ast::Window) -> Option<TimeWindow> {
        let mut days = Vec::new();
        let day = |this: &mut Self, d: &ast::Ident| -> Option<u8> {
            match DAYS.iter().position(|n| n.eq_ignore_ascii_case(&d.name)) {
                Some(i) => Some(i as u8),
                None => {
                    let hint = did_you_mean(&d.name, DAYS)
                        .unwrap_or_else(|| "days are Mon, Tue, Wed, Thu, Fri, Sat, Sun".into());
                    let diag = Diagnostic::error("E0209", format!("unknown day `{}`", d.name))
                        .primary(this.loc(file, d.span), "not a day of the week")
                        .help(hint);
                    this.diags.push(diag);
                    None
                }
            }
        };
        for (a, b) in &w.days {
            let da = day(self, a)?;
            match b {
                None => days.push(da),
                Some(b) => {
                    let db = day(self, b)?;
                    // Ranges may wrap over the week end (`Fri-Mon`).
                    let mut d = da;
                    loop {
                        days.push(d);
                        if d == db {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
            }
        }
        days.sort();
        days.dedup();
        if w.from >= w.to {
            let what = if w.from == w.to {
                "the window is empty: it ends when it starts"
            } else {
                "the window ends before it starts"
            };
            let d = Diagnostic::error("E0209", what)
                .primary(self.loc(file, w.span), "the end time must be after the start time")
                .help("split a window over midnight in two, e.g. `window Mon-Fri 22:00-24:00` and `window Tue-Sat 00:00-06:00`");
            self.diags.push(d);
            return None;
        }
        Some(TimeWindow {
            days,
            from: w.from,
            to: w.to,
            span: Self::span(file, w.span),
        })
    }

    fn lower_persons(&mut self) {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for (file, item) in self.items() {
            let ItemKind::Person(p) = &item.kind else {
                continue;
            };
            if let Some(prev) = seen.get(&p.id.value) {
                let d = Diagnostic::error(
                    "E0102",
                    format!(
                        "person \"{}\" is declared more than once",
                        p.id.value.escape_debug()
                    ),
                )
                .primary(self.loc(file, p.id.span), "second declaration")
                .secondary(self.policy.location(*prev), "first declaration");
                self.diags.push(d);
                continue;
            }
            seen.insert(p.id.value.clone(), Self::span(file, p.id.span));
            let mut roles = Vec::new();
            for (stmt, _) in stmts(&p.stmts) {
                if let ast::PersonStmt::Roles(r) = stmt {
                    roles.extend(self.roles(file, r));
                }
            }
            roles.sort();
            roles.dedup();
            self.policy.to_mut().persons.push(ir::Person {
                id: p.id.value.clone(),
                title: title(&p.title),
                roles,
                span: Self::span(file, item.span),
            });
        }
    }

    // ------------------------------------------------------------ data flows, assertions

    fn lower_dataflows(&mut self) {
        for (file, item) in self.items() {
            let ItemKind::DataFlow(df) = &item.kind else {
                continue;
            };
            let mut flow = ir::DataFlow {
                name: df.name.name.clone(),
                title: title(&df.title),
                hops: Vec::new(),
                integrity: false,
                confidentiality: false,
                span: Self::span(file, item.span),
            };
            let mut prev = self
                .resolve(file, &df.first, &[SymbolKind::Asset])
                .map(|d| (AssetId(d.id), df.first.span));
            for (to, mode) in &df.hops {
                let next = self
                    .resolve(file, to, &[SymbolKind::Asset])
                    .map(|d| (AssetId(d.id), to.span));
                if let (Some((a, sa)), Some((b, sb))) = (prev, next) {
                    flow.hops.push(Hop {
                        from: a,
                        to: b,
                        mode: mode.map(|m| match m {
                            ast::HopMode::Push => HopMode::Push,
                            ast::HopMode::Pull => HopMode::Pull,
                        }),
                        span: Self::span(file, sa.to(sb)),
                    });
                }
                prev = next;
            }
            for (stmt, _) in stmts(&df.stmts) {
                match stmt {
                    ast::DataFlowStmt::Requires(ast::Property::Integrity, _) => {
                        flow.integrity = true
                    }
                    ast::DataFlowStmt::Requires(ast::Property::Confidentiality, _) => {
                        flow.confidentiality = true
                    }
                    ast::DataFlowStmt::Description(_) => {}
                }
            }
            self.policy.to_mut().dataflows.push(flow);
        }
    }

    fn place(&mut self, file: u32, n: &ast::Ident) -> Option<Place> {
        if n.name == "external" {
            return Some(Place::Zone(EXTERNAL));
        }
        match self.resolve(file, n, &[SymbolKind::Zone, SymbolKind::Asset])? {
            d if d.kind == SymbolKind::Zone => Some(Place::Zone(ZoneId(d.id))),
            d => Some(Place::Asset(AssetId(d.id))),
        }
    }

    fn lower_assertions(&mut self) {
        for (file, item) in self.items() {
            let ItemKind::Assert(a) = &item.kind else {
                continue;
            };
            let property = match &a.property {
                ast::AssertProperty::NoPath(x, y) => {
                    match (self.place(file, x), self.place(file, y)) {
                        (Some(from), Some(to)) => Some(Property::NoPath { from, to }),
                        _ => None,
                    }
                }
                ast::AssertProperty::OnlyVia(v, x, y) => {
                    let via = self
                        .resolve(
                            file,
                            v,
                            &[
                                SymbolKind::Firewall,
                                SymbolKind::Gateway,
                                SymbolKind::Conduit,
                                SymbolKind::Asset,
                            ],
                        )
                        .map(|d| match d.kind {
                            SymbolKind::Conduit => Via::Conduit(ConduitId(d.id)),
                            SymbolKind::Asset => Via::Asset(AssetId(d.id)),
                            _ => Via::Device(DeviceId(d.id)),
                        });
                    match (via, self.place(file, x), self.place(file, y)) {
                        (Some(via), Some(from), Some(to)) => {
                            Some(Property::OnlyVia { via, from, to })
                        }
                        _ => None,
                    }
                }
                ast::AssertProperty::Isolated(z) => {
                    self.place(file, z).map(|zone| Property::Isolated { zone })
                }
                ast::AssertProperty::Reachable(x, y, s) => {
                    let service = match s {
                        Some(s) => self
                            .resolve(file, s, &[SymbolKind::Service])
                            .map(|d| Some(ServiceId(d.id))),
                        None => Some(None),
                    };
                    match (self.place(file, x), self.place(file, y), service) {
                        (Some(from), Some(to), Some(service)) => {
                            Some(Property::Reachable { from, to, service })
                        }
                        _ => None,
                    }
                }
                ast::AssertProperty::SecurityLevel(z) => self
                    .resolve_zone(file, z)
                    .map(|zone| Property::SecurityLevel { zone }),
                ast::AssertProperty::Approvals(w) => self
                    .resolve(file, w, &[SymbolKind::WorkOrder])
                    .map(|d| Property::Approvals {
                        workorder: WorkOrderId(d.id),
                    }),
                ast::AssertProperty::DataFlow(f) => self
                    .resolve(file, f, &[SymbolKind::DataFlow])
                    .map(|d| Property::DataFlow {
                        dataflow: DataFlowId(d.id),
                    }),
            };
            let scenario = match &a.scope {
                None => Some(Scenario::All),
                Some(ast::AssertScope::InBase(_)) => Some(Scenario::InBase),
                Some(ast::AssertScope::During(w)) => self
                    .resolve(file, w, &[SymbolKind::WorkOrder])
                    .map(|d| Scenario::During(WorkOrderId(d.id))),
                Some(ast::AssertScope::ExceptDuring(w)) => self
                    .resolve(file, w, &[SymbolKind::WorkOrder])
                    .map(|d| Scenario::ExceptDuring(WorkOrderId(d.id))),
            };
            if let (Some(property), Some(scenario)) = (property, scenario) {
                self.policy.to_mut().assertions.push(Assertion {
                    text: label_of(self.inputs, file, item.span),
                    property,
                    scenario,
                    span: Self::span(file, item.span),
                });
            }
        }
    }
}

impl Lowerer<'_> {
    /// Profiles merge in load order (standard library first): `require` sets a check's
    /// parameters (each given one overriding the earlier value), `disable` turns it off.
    fn lower_profiles(&mut self) {
        use crate::profile::{known, ParamKind};
        let mut checks: Vec<ProfileCheck> = Vec::new();
        for (file, item) in self.items() {
            let ItemKind::Profile(p) = &item.kind else {
                continue;
            };
            for (stmt, span) in stmts(&p.stmts) {
                let (check, params, enabled) = match stmt {
                    ast::ProfileStmt::Require { check, params } => (check, Some(params), true),
                    ast::ProfileStmt::Disable(check) => (check, None, false),
                    ast::ProfileStmt::Description(_) => continue,
                };
                let Some(k) = known(&check.name) else {
                    let names = crate::profile::KNOWN_CHECKS.iter().map(|c| c.name);
                    let hint = did_you_mean(&check.name, names).unwrap_or_else(|| {
                        "`palisade explain E0212` lists the profile checks".into()
                    });
                    let d = Diagnostic::error(
                        "E0212",
                        format!("unknown profile check `{}`", check.name),
                    )
                    .primary(self.loc(file, check.span), "not a profile check")
                    .help(hint);
                    self.diags.push(d);
                    continue;
                };
                let idx = match checks.iter().position(|c| c.name == k.name) {
                    Some(i) => i,
                    None => {
                        checks.push(ProfileCheck {
                            name: k.name.to_string(),
                            enabled: true,
                            params: BTreeMap::new(),
                            span: Self::span(file, span),
                        });
                        checks.len() - 1
                    }
                };
                let mut new_params = Vec::new();
                for (param, _) in stmts(params.map(|v| v.as_slice()).unwrap_or(&[])) {
                    let Some((_, kind)) = k.params.iter().find(|(n, _)| *n == param.name.name)
                    else {
                        let expected: Vec<String> =
                            k.params.iter().map(|(n, _)| format!("`{n}`")).collect();
                        let d = Diagnostic::error(
                            "E0212",
                            format!(
                                "profile check `{}` has no parameter `{}`",
                                k.name, param.name.name
                            ),
                        )
                        .primary(self.loc(file, param.name.span), "unknown parameter")
                        .help(if expected.is_empty() {
                            "this check takes no parameters".to_string()
                        } else {
                            format!("its parameters are {}", expected.join(", "))
                        });
                        self.diags.push(d);
                        continue;
                    };
                    let value = match (kind, &param.value) {
                        (ParamKind::Level, ast::ParamValue::Int(i)) if i.value <= 4 => {
                            Some(ProfileParam::Int(i.value))
                        }
                        (ParamKind::Duration, ast::ParamValue::Duration(secs, _)) => {
                            Some(ProfileParam::Int(*secs))
                        }
                        (ParamKind::Names, ast::ParamValue::Names(n)) => Some(ProfileParam::Names(
                            n.iter().map(|i| i.name.clone()).collect(),
                        )),
                        _ => None,
                    };
                    match value {
                        Some(v) => new_params.push((param.name.name.clone(), v)),
                        None => {
                            let want = match kind {
                                ParamKind::Level => "a security level 0-4",
                                ParamKind::Duration => "a duration such as `4h`",
                                ParamKind::Names => "a list of names such as `[safety_engineer]`",
                            };
                            let d = Diagnostic::error(
                                "E0212",
                                format!(
                                    "parameter `{}` of `{}` takes {want}",
                                    param.name.name, k.name
                                ),
                            )
                            .primary(self.loc(file, param.name.span), "wrong kind of value");
                            self.diags.push(d);
                        }
                    }
                }
                if let Some(c) = checks.get_mut(idx) {
                    c.enabled = enabled;
                    c.span = Self::span(file, span);
                    c.params.extend(new_params);
                }
            }
        }
        self.policy.to_mut().profile = checks;
    }
}

fn kind_name(k: DeviceKind) -> &'static str {
    match k {
        DeviceKind::Firewall => "firewall",
        DeviceKind::Gateway => "gateway",
    }
}

/// Help for a misspelt foundational requirement. Spelling similarity would offer `FR1` for
/// `FR8`, so only a wrong case gets a suggestion.
fn fr_hint(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if FR_NAMES.contains(&upper.as_str()) {
        format!("did you mean `{upper}`?")
    } else {
        "the requirements are FR1 to FR7".into()
    }
}

/// Whether a block lost statements to syntax errors: then nothing is reported missing from it.
/// A kind of statement a block must write, and how a diagnostic names it.
type Required<T> = (fn(&T) -> bool, &'static str);

/// What a block lacks: the names of the `required` statements it does not write, in order.
fn unwritten<T>(body: &[Stmt<T>], required: &[Required<T>]) -> Vec<&'static str> {
    required
        .iter()
        .filter(|(is, _)| !stmts(body).any(|(s, _)| is(s)))
        .map(|(_, name)| *name)
        .collect()
}

fn has_syntax_errors<T>(body: &[Stmt<T>]) -> bool {
    body.iter().any(|s| s.node.is_none())
}

/// `word` with its indefinite article: "an asset", "a zone", "an ICMP type", "a unit id".
fn a(word: &str) -> String {
    let vowel = word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U'])
        && !word.starts_with("uni");
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// "zone", "zone or asset", "asset, zone, group or constant".
fn one_of(words: &[&str]) -> String {
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.concat(),
    }
}

/// The source text of a span, whitespace folded (for labels and assertion texts).
fn label_of(inputs: &[LowerInput<'_>], file: u32, span: ast::Span) -> String {
    inputs
        .get(file as usize)
        .and_then(|i| i.text.get(span.range()))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// IANA names are `Area/Location[/Sub]` of letters, digits, `_`, `-`, `+`; plus `UTC`.
/// The full database is not embedded, so this checks the shape only.
fn valid_timezone(tz: &str) -> bool {
    if tz == "UTC" || tz == "Etc/UTC" {
        return true;
    }
    let parts: Vec<&str> = tz.split('/').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

/// Interface names go into rulesets verbatim: a short word of safe characters (Cisco names
/// contain `/` and `.`; the Linux 15-byte limit is checked by the Linux targets).
fn valid_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
}
