//! The canonical layout of Palisade source (`palisade fmt`), keeping every comment.
//!
//! [`format`] refuses a file with syntax errors; [`format_file`] lays out a parsed file.
//!
//! # Layout
//!
//! - Two-space indentation, one statement per line, `;` never written. A block opens with
//!   ` {` at the end of its header line and closes with `}` alone on its line (anything that
//!   follows the block in the same statement, such as `when workorder x`, follows the `}`).
//!   An empty block without comments is written `{}`.
//! - **One-line bodies.** The bodies of `site`, `person`, `service`, `asset`, a profile's
//!   `require` and the constraint block of an `allow` rule are written on one line,
//!   `asset p at 10.0.0.1 { kind plc }`, when they hold exactly one statement that is itself
//!   one line, no comment lies anywhere in the item or statement, and the line fits in 100
//!   columns. Every other body (zones, conduits, protocols, devices, work orders, data
//!   flows, profiles, `compensating`) always takes one line per statement. A protocol
//!   function's `{ access read }` is always inline.
//! - **Blank lines.** Between top-level items there is a blank line when the two items are of
//!   different kinds or either of them takes more than one line; items of one kind that take
//!   one line each (roles, uses, constants, one-line services, asserts, …) stay together.
//!   Beyond that, a blank line is kept wherever the source had one or more (at most one is
//!   written), at top level and inside blocks, but never right after `{` or before `}`.
//! - **Literals.** Strings are re-escaped (`\"`, `\\`); integers are decimal unless the
//!   source wrote them in hexadecimal; addresses and networks take their canonical form;
//!   durations keep the unit the source used; times are `HH:MM`, dates `YYYY-MM-DD`. Lists
//!   are `[a, b]`; a one-element `scope`, `opens`, `roles` or `covers` is written as a list,
//!   `requested_by` with one role as the bare name.
//!
//! # Comments
//!
//! No comment is ever dropped or duplicated, and their order is kept:
//! - a comment on the same line as the end of a statement or item (only spaces or `;`
//!   between) trails it on its line;
//! - any other comment before a statement or item goes on its own line(s) before it; a
//!   comment *inside* a statement that is written on one line moves up before that line;
//!   a comment inside the header of a block moves to the start of the block;
//! - comments after the last statement of a block stay at the end of that block, and
//!   comments after the last item stay at the end of the file.
//!
//! Comment text is written as it was (a multi-line `/* … */` keeps its inner lines).

use crate::ast::*;
use crate::lexer::Comment;
use crate::parse::{parse, SyntaxError};
use std::mem::{discriminant, Discriminant};
use std::net::Ipv6Addr;

const INDENT: &str = "  ";
const MAX_WIDTH: usize = 100;

/// Why a file was not formatted: it has syntax errors, and a broken file is never rewritten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub errors: Vec<SyntaxError>,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.errors.len() {
            1 => write!(f, "the file has a syntax error; it was not formatted"),
            n => write!(f, "the file has {n} syntax errors; it was not formatted"),
        }
    }
}

impl std::error::Error for FormatError {}

/// Parse `text` and return it in canonical layout, or the syntax errors that prevent it.
pub fn format(text: &str) -> Result<String, FormatError> {
    let parsed = parse(text);
    if !parsed.errors.is_empty() {
        return Err(FormatError {
            errors: parsed.errors,
        });
    }
    Ok(format_file(&parsed.file, text))
}

/// Lay out a parsed file. `text` must be the text `file` was parsed from: it tells where
/// comments and blank lines were and how numbers were written. Meant for files without
/// syntax errors; a stretch the parser could not read is copied as it was.
pub fn format_file(file: &SourceFile, text: &str) -> String {
    let builder = Builder {
        text,
        comments: &file.comments,
    };
    let items: Vec<(Node, Discriminant<ItemKind>)> = file
        .items
        .iter()
        .map(|item| (builder.item(item), discriminant(&item.kind)))
        .collect();
    let mut printer = Printer {
        text,
        comments: &file.comments,
        next: 0,
        last_end: 0,
        out: String::new(),
    };
    printer.file(&items);
    printer.out
}

// ---------------------------------------------------------------- layout tree

/// An item or statement with the source span its comments are placed by.
struct Node {
    span: Span,
    layout: Layout,
}

enum Layout {
    /// Written on one line.
    Line(String),
    /// A header, a `{ … }` body and what follows the `}`.
    Block(Block),
    /// A stretch the parser could not read, copied with the comments inside it.
    Verbatim(String),
}

struct Block {
    head: String,
    children: Vec<Node>,
    tail: String,
    /// This kind of body may be written on one line.
    may_inline: bool,
    /// No comment starts inside the node.
    quiet: bool,
}

enum Form {
    Empty,
    Inline(String),
    Expanded,
}

impl Block {
    fn form(&self, indent: usize) -> Form {
        match self.children.as_slice() {
            [] if self.quiet => Form::Empty,
            [Node {
                layout: Layout::Line(line),
                ..
            }] if self.quiet && self.may_inline => {
                let text = format!("{} {{ {line} }}{}", self.head, self.tail);
                if indent * INDENT.len() + text.chars().count() <= MAX_WIDTH {
                    Form::Inline(text)
                } else {
                    Form::Expanded
                }
            }
            _ => Form::Expanded,
        }
    }
}

// ---------------------------------------------------------------- from syntax tree to layout

struct Builder<'a> {
    text: &'a str,
    comments: &'a [Comment],
}

fn line(s: String) -> Layout {
    Layout::Line(s)
}

impl Builder<'_> {
    /// Whether no comment starts inside `span`.
    fn quiet(&self, span: Span) -> bool {
        let i = self.comments.partition_point(|c| c.span.start < span.start);
        self.comments
            .get(i)
            .is_none_or(|c| c.span.start >= span.end)
    }

    fn block(&self, span: Span, head: String, children: Vec<Node>, may_inline: bool) -> Layout {
        self.block_with_tail(span, head, children, String::new(), may_inline)
    }

    fn block_with_tail(
        &self,
        span: Span,
        head: String,
        children: Vec<Node>,
        tail: String,
        may_inline: bool,
    ) -> Layout {
        Layout::Block(Block {
            head,
            children,
            tail,
            may_inline,
            quiet: self.quiet(span),
        })
    }

    fn verbatim(&self, span: Span) -> Layout {
        Layout::Verbatim(self.text.get(span.range()).unwrap_or("").trim().to_string())
    }

    fn stmts<T>(&self, stmts: &[Stmt<T>], mut f: impl FnMut(&T, Span) -> Layout) -> Vec<Node> {
        stmts
            .iter()
            .map(|stmt| Node {
                span: stmt.span,
                layout: match &stmt.node {
                    Some(node) => f(node, stmt.span),
                    None => self.verbatim(stmt.span),
                },
            })
            .collect()
    }

    fn item(&self, item: &Item) -> Node {
        let span = item.span;
        let layout = match &item.kind {
            ItemKind::Site(s) => {
                let body = self.stmts(&s.stmts, |st, _| {
                    line(match st {
                        SiteStmt::Timezone(tz) => format!("timezone {}", string(tz)),
                        SiteStmt::Description(d) => description(d),
                    })
                });
                self.block(span, format!("site {}", string(&s.name)), body, true)
            }
            ItemKind::Use(Use::Module(path)) => line(format!("use {}", join(path, ".", id))),
            ItemKind::Use(Use::File(f)) => line(format!("use {}", string(f))),
            ItemKind::Const(c) => line(format!("const {} = {}", c.name.name, self.value(&c.value))),
            ItemKind::Role(r) => line(titled("role", &r.name.name, &r.title)),
            ItemKind::Person(p) => {
                let body = self.stmts(&p.stmts, |st, _| {
                    line(match st {
                        PersonStmt::Roles(roles) => format!("roles {}", list(roles)),
                        PersonStmt::Description(d) => description(d),
                    })
                });
                let head = titled("person", &string(&p.id), &p.title);
                self.block(span, head, body, true)
            }
            ItemKind::Service(s) => self.service(s, span),
            ItemKind::Protocol(p) => {
                let body = self.stmts(&p.stmts, |f, _| line(self.protocol_function(f)));
                self.block(
                    span,
                    titled("protocol", &p.name.name, &p.title),
                    body,
                    false,
                )
            }
            ItemKind::Group(g) => {
                let members = join(&g.members, ", ", |e| self.endpoint(e));
                line(format!("group {} = [{members}]", g.name.name))
            }
            ItemKind::Zone(z) => {
                let body = self.stmts(&z.stmts, |st, span| self.zone_stmt(st, span));
                self.block(span, titled("zone", &z.name.name, &z.title), body, false)
            }
            ItemKind::Conduit(c) => {
                let arrow = if c.bidirectional { "<->" } else { "->" };
                let head = format!(
                    "{}: {} {arrow} {}",
                    titled("conduit", &c.name.name, &c.title),
                    c.from.name,
                    c.to.name
                );
                let body = self.stmts(&c.stmts, |st, span| self.conduit_stmt(st, span));
                self.block(span, head, body, false)
            }
            ItemKind::Device(d) => {
                let keyword = match d.kind {
                    DeviceKind::Firewall => "firewall",
                    DeviceKind::Gateway => "gateway",
                };
                let body = self.stmts(&d.stmts, |st, _| line(device_stmt(st)));
                self.block(span, titled(keyword, &d.name.name, &d.title), body, false)
            }
            ItemKind::Link(l) => line(format!(
                "{}: {}",
                titled("link", &l.name.name, &l.title),
                join(&l.zones, ", ", id)
            )),
            ItemKind::WorkOrder(w) => {
                let body = self.stmts(&w.stmts, |st, _| line(self.work_order_stmt(st)));
                self.block(
                    span,
                    titled("workorder", &w.name.name, &w.title),
                    body,
                    false,
                )
            }
            ItemKind::DataFlow(d) => {
                let mut head = format!(
                    "{}: {}",
                    titled("dataflow", &d.name.name, &d.title),
                    d.first.name
                );
                for (to, mode) in &d.hops {
                    head.push_str(" -> ");
                    head.push_str(&to.name);
                    match mode {
                        Some(HopMode::Push) => head.push_str(" (push)"),
                        Some(HopMode::Pull) => head.push_str(" (pull)"),
                        None => {}
                    }
                }
                let body = self.stmts(&d.stmts, |st, _| {
                    line(match st {
                        DataFlowStmt::Requires(p, _) => property(*p).to_string(),
                        DataFlowStmt::Description(d) => description(d),
                    })
                });
                self.block(span, head, body, false)
            }
            ItemKind::Profile(p) => {
                let body = self.stmts(&p.stmts, |st, span| self.profile_stmt(st, span));
                self.block(span, titled("profile", &p.name.name, &p.title), body, false)
            }
            ItemKind::Assert(a) => line(assertion(a)),
            ItemKind::Error => self.verbatim(span),
        };
        Node { span, layout }
    }

    fn service(&self, s: &Service, span: Span) -> Layout {
        let def = match &s.def {
            ServiceDef::Ports(ports) => join(ports, ", ", |p| self.port_spec(p)),
            ServiceDef::Group(members) => list(members),
        };
        let head = format!("{} = {def}", titled("service", &s.name.name, &s.title));
        match &s.body {
            None => line(head),
            Some(body) => {
                let body = self.stmts(body, |st, _| {
                    line(match st {
                        ServiceStmt::Inspect(p) => format!("inspect {}", p.name),
                        ServiceStmt::Provides(props) => {
                            format!(
                                "provides [{}]",
                                join(props, ", ", |(p, _)| property(*p).to_string())
                            )
                        }
                        ServiceStmt::Broadcast => "broadcast".into(),
                        ServiceStmt::Multicast => "multicast".into(),
                        ServiceStmt::Layer2 => "layer2".into(),
                        ServiceStmt::Description(d) => description(d),
                    })
                });
                self.block(span, head, body, true)
            }
        }
    }

    fn port_spec(&self, p: &PortSpec) -> String {
        let mut out = p.proto.name.clone();
        let mut push = |sep: &str, n: &Option<PortNum>| {
            if let Some(n) = n {
                out.push_str(sep);
                out.push_str(&match n {
                    PortNum::Int(i) => self.int(i),
                    PortNum::Const(c) => c.name.clone(),
                });
            }
        };
        push("/", &p.first);
        push("-", &p.last);
        push("/", &p.code);
        out
    }

    fn protocol_function(&self, f: &ProtocolStmt) -> String {
        let keyword = if f.is_service { "service" } else { "function" };
        let mut out = format!("{keyword} {} = {}", f.name.name, self.int(&f.code));
        if let Some(access) = &f.access {
            out.push_str(&format!(" {{ access {} }}", access.name));
        }
        out
    }

    fn zone_stmt(&self, st: &ZoneStmt, span: Span) -> Layout {
        match st {
            ZoneStmt::Description(d) => line(description(d)),
            ZoneStmt::SecurityLevel(l) => line(format!("security_level {}", self.level(l))),
            ZoneStmt::Network(n) => line(format!("network {}", self.endpoint(n))),
            ZoneStmt::Asset(a) => {
                let head = format!(
                    "{} at {}",
                    titled("asset", &a.name.name, &a.title),
                    self.endpoint(&a.addr)
                );
                match &a.body {
                    None => line(head),
                    Some(body) => {
                        let body = self.stmts(body, |st, span| self.asset_stmt(st, span));
                        self.block(span, head, body, true)
                    }
                }
            }
        }
    }

    fn asset_stmt(&self, st: &AssetStmt, span: Span) -> Layout {
        line(match st {
            AssetStmt::Kind(k) => format!("kind {}", k.name),
            AssetStmt::Capability(l) => format!("capability {}", self.level(l)),
            AssetStmt::Interface { zone, addr } => {
                format!("interface {} at {}", zone.name, self.endpoint(addr))
            }
            AssetStmt::Bridge(_) => "bridge".into(),
            AssetStmt::Description(d) => description(d),
            AssetStmt::Compensating(stmts, _) => {
                let body = self.stmts(stmts, |st, _| line(comp_stmt(st)));
                return self.block(span, "compensating".into(), body, false);
            }
        })
    }

    fn conduit_stmt(&self, st: &ConduitStmt, span: Span) -> Layout {
        match st {
            ConduitStmt::SecurityLevel(l) => line(format!("security_level {}", self.level(l))),
            ConduitStmt::Log(_) => line("log".into()),
            ConduitStmt::Unidirectional(_) => line("unidirectional".into()),
            ConduitStmt::Description(d) => line(description(d)),
            ConduitStmt::Allow(rule) => {
                let head = format!(
                    "allow {} -> {} : {}",
                    self.endpoint(&rule.src),
                    self.endpoint(&rule.dst),
                    join(&rule.services, ", ", id)
                );
                let tail = match &rule.when {
                    Some(w) => format!(" when workorder {}", w.name),
                    None => String::new(),
                };
                match &rule.constraints {
                    None => line(head + &tail),
                    Some(constraints) => {
                        let body = self.stmts(constraints, |c, _| {
                            line(format!(
                                "{} [{}]",
                                c.key.name,
                                join(&c.values, ", ", |v| self.list_value(v))
                            ))
                        });
                        self.block_with_tail(span, head, body, tail, true)
                    }
                }
            }
        }
    }

    fn work_order_stmt(&self, st: &WorkOrderStmt) -> String {
        match st {
            WorkOrderStmt::Scope(s) => format!("scope {}", list(s)),
            WorkOrderStmt::RequestedBy(roles) => match roles.as_slice() {
                [one] => format!("requested_by {}", one.name),
                _ => format!("requested_by {}", list(roles)),
            },
            WorkOrderStmt::ApprovedBy(Approval::AllOf(roles)) => {
                format!("approved_by {}", join(roles, " and ", id))
            }
            WorkOrderStmt::ApprovedBy(Approval::NOf(n, roles)) => {
                format!("approved_by {} of {}", self.int(n), list(roles))
            }
            WorkOrderStmt::SeparationOfDuties(_) => "separation_of_duties".into(),
            WorkOrderStmt::Prerequisite(name, title) => titled("prerequisite", &name.name, title),
            WorkOrderStmt::Window(w) => {
                let days = join(&w.days, ", ", |(a, b)| match b {
                    Some(b) => format!("{}-{}", a.name, b.name),
                    None => a.name.clone(),
                });
                format!("window {days} {}-{}", time(w.from), time(w.to))
            }
            WorkOrderStmt::Opens(c) => format!("opens {}", list(c)),
            WorkOrderStmt::MaxDuration(d, span) => {
                format!("max_duration {}", self.duration(*d, *span))
            }
            WorkOrderStmt::Emergency(_) => "emergency".into(),
            WorkOrderStmt::ReviewAfter(d, span) => {
                format!("review_after {}", self.duration(*d, *span))
            }
            WorkOrderStmt::Description(d) => description(d),
        }
    }

    /// `require check` alone when it has no parameters (`{}` reads the same).
    fn profile_stmt(&self, st: &ProfileStmt, span: Span) -> Layout {
        match st {
            ProfileStmt::Require { check, params } if params.is_empty() => {
                line(format!("require {}", check.name))
            }
            ProfileStmt::Require { check, params } => {
                let body = self.stmts(params, |p, _| {
                    line(format!("{} {}", p.name.name, self.param_value(&p.value)))
                });
                self.block(span, format!("require {}", check.name), body, true)
            }
            ProfileStmt::Disable(check) => line(format!("disable {}", check.name)),
            ProfileStmt::Description(d) => line(description(d)),
        }
    }

    fn param_value(&self, v: &ParamValue) -> String {
        match v {
            ParamValue::Int(i) => self.int(i),
            ParamValue::Duration(d, span) => self.duration(*d, *span),
            ParamValue::Names(names) => list(names),
        }
    }

    // ------------------------------------------------------------ literals

    /// Decimal, or hexadecimal when the source wrote `0x…` (digits kept as written).
    fn int(&self, i: &IntLit) -> String {
        let written = self.text.get(i.span.range()).and_then(|s| {
            let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
            (u64::from_str_radix(digits, 16) == Ok(i.value)).then(|| format!("0x{digits}"))
        });
        written.unwrap_or_else(|| i.value.to_string())
    }

    /// In the unit the source used when it divides the value, else the largest that does.
    fn duration(&self, seconds: u64, span: Span) -> String {
        const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
        let written = self.text.get(span.range()).and_then(|s| s.chars().last());
        let (unit, size) = UNITS
            .iter()
            .find(|(u, size)| Some(*u) == written && seconds.checked_rem(*size) == Some(0))
            .or_else(|| {
                UNITS
                    .iter()
                    .find(|(_, size)| seconds.checked_rem(*size) == Some(0))
            })
            .copied()
            .unwrap_or(('s', 1));
        format!("{}{unit}", seconds / size)
    }

    fn value(&self, v: &Value) -> String {
        match v {
            Value::Int(i) => self.int(i),
            Value::Str(s) => string(s),
            Value::Ip(a, _) => ip(*a),
            Value::Net(n, _) => net(*n),
            Value::IpRange(a, b, _) => format!("{}-{}", ip(*a), ip(*b)),
        }
    }

    fn endpoint(&self, e: &Endpoint) -> String {
        match e {
            Endpoint::Name(n) => n.name.clone(),
            Endpoint::Any(_) => "any".into(),
            Endpoint::Value(v) => self.value(v),
        }
    }

    fn level(&self, l: &Level) -> String {
        match l {
            Level::Scalar(i) => self.int(i),
            Level::Vector(v, _) => format!(
                "[{}]",
                join(v, ", ", |(fr, n)| format!("{}: {}", fr.name, self.int(n)))
            ),
        }
    }

    fn list_value(&self, v: &ListValue) -> String {
        match v {
            ListValue::Name(n) => n.name.clone(),
            ListValue::Int(i) => self.int(i),
            ListValue::Range(a, b) => format!("{}-{}", self.int(a), self.int(b)),
        }
    }
}

fn comp_stmt(st: &CompStmt) -> String {
    match st {
        CompStmt::Covers(frs) => format!("covers {}", list(frs)),
        CompStmt::ReliesOn(r) => match r {
            Reliance::Gateway(g) => format!("relies_on gateway {}", g.name),
            Reliance::Firewall(f) => format!("relies_on firewall {}", f.name),
            Reliance::Conduit(c) => format!("relies_on conduit {}", c.name),
            Reliance::Isolation(_) => "relies_on isolation".into(),
        },
        CompStmt::Because(s) => format!("because {}", string(s)),
        CompStmt::Owner(s) => format!("owner {}", string(s)),
        CompStmt::Expires((y, m, d), _) => format!("expires {y:04}-{m:02}-{d:02}"),
    }
}

fn device_stmt(st: &DeviceStmt) -> String {
    match st {
        DeviceStmt::Target(t) => format!("target {}", t.name),
        DeviceStmt::Interface { name, faces } => {
            format!("interface {} faces {}", string(name), join(faces, ", ", id))
        }
        DeviceStmt::Inline(a, b) => format!("inline between {} and {}", a.name, b.name),
        DeviceStmt::Mode(m) => format!("mode {}", m.name),
        DeviceStmt::Description(d) => description(d),
    }
}

fn assertion(a: &Assert) -> String {
    let mut out = match &a.property {
        AssertProperty::NoPath(x, y) => format!("assert no_path {} -> {}", x.name, y.name),
        AssertProperty::OnlyVia(via, x, y) => {
            format!("assert only_via {}: {} -> {}", via.name, x.name, y.name)
        }
        AssertProperty::Isolated(z) => format!("assert isolated {}", z.name),
        AssertProperty::Reachable(x, y, service) => match service {
            Some(s) => format!("assert reachable {} -> {} : {}", x.name, y.name, s.name),
            None => format!("assert reachable {} -> {}", x.name, y.name),
        },
        AssertProperty::SecurityLevel(z) => format!("assert security_level {}", z.name),
        AssertProperty::Approvals(w) => format!("assert approvals {}", w.name),
        AssertProperty::DataFlow(d) => format!("assert dataflow {}", d.name),
    };
    match &a.scope {
        Some(AssertScope::InBase(_)) => out.push_str(" in base"),
        Some(AssertScope::During(w)) => out.push_str(&format!(" during {}", w.name)),
        Some(AssertScope::ExceptDuring(w)) => out.push_str(&format!(" except during {}", w.name)),
        None => {}
    }
    out
}

fn id(i: &Ident) -> String {
    i.name.clone()
}

fn join<T>(items: &[T], sep: &str, f: impl FnMut(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(sep)
}

fn list(items: &[Ident]) -> String {
    format!("[{}]", join(items, ", ", id))
}

fn titled(keyword: &str, name: &str, title: &Option<StrLit>) -> String {
    match title {
        Some(t) => format!("{keyword} {name} {}", string(t)),
        None => format!("{keyword} {name}"),
    }
}

fn description(d: &StrLit) -> String {
    format!("description {}", string(d))
}

fn string(s: &StrLit) -> String {
    format!("\"{}\"", s.value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn property(p: Property) -> &'static str {
    match p {
        Property::Integrity => "integrity",
        Property::Confidentiality => "confidentiality",
    }
}

fn time(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The canonical text of an address. Rust writes IPv4-mapped IPv6 addresses with a dotted
/// tail (`::ffff:1.2.3.4`), which the lexer does not read, so those are spelled in hex.
fn ip(a: IpLit) -> String {
    let shown = a.to_string();
    if !a.v6 || !shown.contains('.') {
        return shown;
    }
    let segments = Ipv6Addr::from(a.value).segments();
    // RFC 5952: the longest run (at least two) of zero groups becomes `::`, the first on ties.
    let (mut best, mut run) = ((0, 0), (0, 0));
    for (i, s) in segments.iter().enumerate() {
        run = if *s == 0 {
            (run.0, run.1 + 1)
        } else {
            (i + 1, 0)
        };
        if run.1 > best.1 {
            best = run;
        }
    }
    let hex = |groups: &[u16]| join(groups, ":", |g| format!("{g:x}"));
    match (segments.get(..best.0), segments.get(best.0 + best.1..)) {
        (Some(head), Some(tail)) if best.1 >= 2 => format!("{}::{}", hex(head), hex(tail)),
        _ => hex(&segments),
    }
}

fn net(n: NetLit) -> String {
    format!("{}/{}", ip(n.addr), n.prefix)
}

// ---------------------------------------------------------------- printing with comments

struct Printer<'a> {
    text: &'a str,
    comments: &'a [Comment],
    /// The first comment not yet written.
    next: usize,
    /// Where the last thing written (item, statement or comment) ended in the source.
    last_end: u32,
    out: String,
}

impl Printer<'_> {
    fn file(&mut self, items: &[(Node, Discriminant<ItemKind>)]) {
        let mut first = true;
        let mut previous: Option<(Discriminant<ItemKind>, bool)> = None;
        for (node, kind) in items {
            let multiline = node.multiline(0);
            let blank = previous.is_some_and(|(k, m)| k != *kind || m || multiline);
            self.node(node, 0, &mut first, blank);
            previous = Some((*kind, multiline));
        }
        self.comments_before(u32::MAX, 0, &mut first, &mut false);
    }

    /// Write `node` and its comments. `first`: nothing has been written yet in this block
    /// (so no blank line); `blank`: a blank line is due before the node or its comments.
    fn node(&mut self, node: &Node, indent: usize, first: &mut bool, blank: bool) {
        let mut blank = blank;
        // A comment inside a statement written on one line has nowhere else to go.
        let leading_until = match &node.layout {
            Layout::Line(_) => node.span.end,
            Layout::Block(_) | Layout::Verbatim(_) => node.span.start,
        };
        self.comments_before(leading_until, indent, first, &mut blank);
        self.blank_line(
            *first,
            blank || self.blank_between(self.last_end, node.span.start),
        );
        *first = false;
        self.pad(indent);
        match &node.layout {
            Layout::Line(text) => self.out.push_str(text),
            Layout::Verbatim(text) => {
                self.out.push_str(text);
                // Those comments are part of the copied text.
                while self
                    .comments
                    .get(self.next)
                    .is_some_and(|c| c.span.start < node.span.end)
                {
                    self.next += 1;
                }
            }
            Layout::Block(block) => match block.form(indent) {
                Form::Empty => {
                    self.out.push_str(&block.head);
                    self.out.push_str(" {}");
                    self.out.push_str(&block.tail);
                }
                Form::Inline(text) => self.out.push_str(&text),
                Form::Expanded => {
                    self.out.push_str(&block.head);
                    self.out.push_str(" {\n");
                    let mut first_inside = true;
                    for child in &block.children {
                        self.node(child, indent + 1, &mut first_inside, false);
                    }
                    self.comments_before(node.span.end, indent + 1, &mut first_inside, &mut false);
                    self.pad(indent);
                    self.out.push('}');
                    self.out.push_str(&block.tail);
                }
            },
        }
        self.last_end = self.last_end.max(node.span.end);
        self.trailing_comments();
        self.out.push('\n');
    }

    /// Write, each on its own line, the comments that start before `limit`.
    fn comments_before(&mut self, limit: u32, indent: usize, first: &mut bool, blank: &mut bool) {
        let comments = self.comments;
        while let Some(c) = comments.get(self.next).filter(|c| c.span.start < limit) {
            self.blank_line(
                *first,
                *blank || self.blank_between(self.last_end, c.span.start),
            );
            *blank = false;
            *first = false;
            self.pad(indent);
            self.out.push_str(&c.text);
            self.out.push('\n');
            self.last_end = self.last_end.max(c.span.end);
            self.next += 1;
        }
    }

    /// Append the comments that follow on the same line (only spaces or `;` in between).
    fn trailing_comments(&mut self) {
        let comments = self.comments;
        while let Some(c) = comments.get(self.next) {
            let same_line = self
                .text
                .get(self.last_end as usize..c.span.start as usize)
                .is_some_and(|gap| {
                    gap.chars()
                        .all(|ch| matches!(ch, ' ' | '\t' | '\r' | '\x0c' | ';'))
                });
            if !same_line {
                break;
            }
            self.out.push(' ');
            self.out.push_str(&c.text);
            self.last_end = self.last_end.max(c.span.end);
            self.next += 1;
        }
    }

    /// Whether the source between `from` and `to` holds an empty line.
    fn blank_between(&self, from: u32, to: u32) -> bool {
        let Some(gap) = self.text.get(from as usize..to as usize) else {
            return false;
        };
        let lines: Vec<&str> = gap.split('\n').collect();
        // The first and last pieces are the rest of `from`'s line and the start of `to`'s.
        lines
            .get(1..lines.len().saturating_sub(1))
            .is_some_and(|inner| inner.iter().any(|l| l.trim().is_empty()))
    }

    fn blank_line(&mut self, first: bool, wanted: bool) {
        if wanted && !first {
            self.out.push('\n');
        }
    }

    fn pad(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push_str(INDENT);
        }
    }
}

impl Node {
    /// Whether the node takes more than one line (its comments aside).
    fn multiline(&self, indent: usize) -> bool {
        match &self.layout {
            Layout::Line(_) => false,
            Layout::Verbatim(text) => text.contains('\n'),
            Layout::Block(b) => matches!(b.form(indent), Form::Expanded),
        }
    }
}
