//! Hover texts (Markdown): what the resolved model says about a name or a rule. Everything
//! here reads the policy IR, the same one the targets and the verifier read.

use crate::analysis::{self, contains, Symbol};
use palisade_compiler::address::AddrRange;
use palisade_compiler::db::{parsed, policy_ir, Site};
use palisade_compiler::ir::*;
use palisade_compiler::symbols::{Definition, SymbolKind};
use palisade_compiler::topology::{self, Crossing, Topology};
use std::fmt::Write;

/// At most this many addresses or assets are listed; the rest are counted.
const LIST_LIMIT: usize = 12;

pub fn symbol(db: &dyn salsa::Database, site: Site, symbol: &Symbol) -> Option<String> {
    let policy = policy_ir(db, site);
    match symbol {
        Symbol::External => policy.zone(EXTERNAL).map(|z| zone(policy, z)),
        Symbol::Function { family, name } => {
            let (p, f) = analysis::function(policy, *family, name)?;
            Some(format!(
                "**{} {}** `{}` = {} (0x{:02x})\n\naccess: {}",
                p.family.name(),
                if p.family == ProtocolFamily::Cip {
                    "service"
                } else {
                    "function"
                },
                f.name,
                f.code,
                f.code,
                access(f.access)
            ))
        }
        Symbol::Global { name, def: None } => Some(format!("`{name}` is not defined in this site")),
        Symbol::Global { def: Some(def), .. } => global(db, policy, def),
    }
}

fn global(db: &dyn salsa::Database, policy: &Policy, def: &Definition) -> Option<String> {
    let at = |span: Span| contains(span, def.file_index, def.span);
    let text = match def.kind {
        SymbolKind::Zone => zone(policy, policy.zones.iter().find(|z| at(z.span))?),
        SymbolKind::Asset => asset(policy, policy.assets.iter().find(|a| at(a.span))?),
        SymbolKind::Service => service(policy, policy.services.iter().find(|s| at(s.span))?),
        SymbolKind::Conduit => conduit(policy, policy.conduits.iter().find(|c| at(c.span))?),
        SymbolKind::Firewall | SymbolKind::Gateway => {
            device(policy, policy.devices.iter().find(|d| at(d.span))?)
        }
        SymbolKind::Role => role(policy, policy.roles.iter().find(|r| at(r.span))?),
        SymbolKind::WorkOrder => workorder(policy, policy.workorders.iter().find(|w| at(w.span))?),
        SymbolKind::DataFlow => dataflow(policy, policy.dataflows.iter().find(|d| at(d.span))?),
        SymbolKind::Group => group(policy.groups.iter().find(|g| at(g.span))?),
        SymbolKind::Link => link(policy, policy.links.iter().find(|l| at(l.span))?),
        SymbolKind::Const => constant(db, def)?,
        SymbolKind::Function => return None,
    };
    Some(text)
}

fn heading(kind: &str, name: &str, title: &Option<String>) -> String {
    match title {
        Some(t) => format!("**{kind}** `{name}` — {t}\n\n"),
        None => format!("**{kind}** `{name}`\n\n"),
    }
}

fn access(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::Write => "write",
        Access::Diagnostic => "diagnostic",
        Access::Other => "other",
    }
}

/// An SL vector as a table row over FR1..FR7.
fn sl_table(rows: &[(&str, SlVector)]) -> String {
    let mut s = String::from("| |");
    for fr in FR_NAMES {
        let _ = write!(s, " {fr} |");
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(FR_NAMES.len()));
    for (label, v) in rows {
        let _ = write!(s, "\n| {label} |");
        for fr in 0..FR_NAMES.len() {
            let _ = write!(s, " {} |", v.get(fr));
        }
    }
    s.push('\n');
    s
}

fn addrs(list: &[AddrRange]) -> String {
    let mut parts: Vec<String> = list
        .iter()
        .take(LIST_LIMIT)
        .map(|a| format!("`{a}`"))
        .collect();
    if list.len() > LIST_LIMIT {
        parts.push(format!("and {} more", list.len() - LIST_LIMIT));
    }
    if parts.is_empty() {
        "no address".into()
    } else {
        parts.join(", ")
    }
}

fn zone(policy: &Policy, z: &Zone) -> String {
    let mut s = heading("zone", &z.name, &z.title);
    if z.builtin {
        s.push_str("Built in: every address no declared zone owns (the internet, vendors, the corporate WAN). Never trusted.\n\n");
    }
    if let Some(d) = &z.description {
        let _ = write!(s, "{d}\n\n");
    }
    s.push_str(&sl_table(&[("SL-T", z.security_level)]));
    if !z.builtin {
        let nets: Vec<String> = z.networks.iter().map(|n| format!("`{n}`")).collect();
        let _ = write!(
            s,
            "\nnetworks: {}\n",
            if nets.is_empty() {
                "none".to_string()
            } else {
                nets.join(", ")
            }
        );
        let _ = write!(s, "\nassets ({}):\n", z.assets.len());
        for a in z
            .assets
            .iter()
            .take(LIST_LIMIT)
            .filter_map(|a| policy.asset(*a))
        {
            let kind = a.kind.as_deref().unwrap_or("no kind");
            let _ = writeln!(s, "- `{}` at `{}` ({kind})", a.name, a.addr);
        }
        if z.assets.len() > LIST_LIMIT {
            let _ = writeln!(s, "- and {} more", z.assets.len() - LIST_LIMIT);
        }
    }
    s
}

fn asset(policy: &Policy, a: &Asset) -> String {
    let mut s = heading("asset", &a.name, &a.title);
    if let Some(d) = &a.description {
        let _ = write!(s, "{d}\n\n");
    }
    let _ = writeln!(s, "- address: `{}`", a.addr);
    let _ = writeln!(s, "- zone: `{}`", policy.zone_name(a.zone));
    let _ = writeln!(s, "- kind: {}", a.kind.as_deref().unwrap_or("not declared"));
    for i in &a.interfaces {
        let _ = writeln!(
            s,
            "- interface in `{}` at `{}`",
            policy.zone_name(i.zone),
            i.addr
        );
    }
    if a.bridge {
        s.push_str("- declared a bridge: an unfiltered edge between its zones in every proof\n");
    }
    if let Some(z) = policy.zone(a.zone) {
        let capability = a.capability.unwrap_or_default();
        let label = if a.capability.is_some() {
            "SL-C"
        } else {
            "SL-C (not declared: 0)"
        };
        let _ = write!(
            s,
            "\n{}",
            sl_table(&[(label, capability), ("SL-T of zone", z.security_level)])
        );
        let gaps = gaps(a, z);
        if !gaps.is_empty() {
            let covered: Vec<u8> = a
                .compensating
                .iter()
                .flat_map(|c| c.covers.iter().copied())
                .collect();
            let open: Vec<&str> = gaps
                .iter()
                .filter(|g| !covered.contains(g))
                .filter_map(|g| FR_NAMES.get(*g as usize).copied())
                .collect();
            let all: Vec<&str> = gaps
                .iter()
                .filter_map(|g| FR_NAMES.get(*g as usize).copied())
                .collect();
            let _ = write!(
                s,
                "\ncapability below the zone's target on {}",
                all.join(", ")
            );
            if open.is_empty() {
                s.push_str(" (all covered by compensating controls)\n");
            } else {
                let _ = writeln!(s, "; not covered: {}", open.join(", "));
            }
        }
    }
    for c in &a.compensating {
        let frs: Vec<&str> = c
            .covers
            .iter()
            .filter_map(|f| FR_NAMES.get(*f as usize).copied())
            .collect();
        let _ = write!(s, "\ncompensating control for {}", frs.join(", "));
        if let Some(e) = &c.expires {
            let _ = write!(s, ", expires {e}");
        }
        if let Some(o) = &c.owner {
            let _ = write!(s, ", owner {o}");
        }
        s.push('\n');
    }
    s
}

/// The FRs (0-based) on which an asset's capability is below its zone's target.
pub fn gaps(a: &Asset, z: &Zone) -> Vec<u8> {
    let capability = a.capability.unwrap_or_default();
    (0..FR_NAMES.len())
        .filter(|fr| capability.get(*fr) < z.security_level.get(*fr))
        .filter_map(|fr| u8::try_from(fr).ok())
        .collect()
}

pub fn transport(t: &Transport) -> String {
    let ports = |p: &str, lo: u16, hi: u16| {
        if lo == hi {
            format!("{p}/{lo}")
        } else {
            format!("{p}/{lo}-{hi}")
        }
    };
    let icmp = |p: &str, ty: Option<u8>, code: Option<u8>| match (ty, code) {
        (None, _) => p.to_string(),
        (Some(t), None) => format!("{p}/{t}"),
        (Some(t), Some(c)) => format!("{p}/{t}/{c}"),
    };
    match *t {
        Transport::Tcp { lo, hi } => ports("tcp", lo, hi),
        Transport::Udp { lo, hi } => ports("udp", lo, hi),
        Transport::Icmp { icmp_type, code } => icmp("icmp", icmp_type, code),
        Transport::Icmpv6 { icmp_type, code } => icmp("icmpv6", icmp_type, code),
        Transport::Ip { number } => format!("proto/{number}"),
        Transport::Ethertype { value } => format!("ethertype/0x{value:04x}"),
    }
}

fn service(policy: &Policy, svc: &Service) -> String {
    let kind = if svc.members.is_empty() {
        "service"
    } else {
        "service group"
    };
    let mut s = heading(kind, &svc.name, &svc.title);
    if !svc.members.is_empty() {
        let names: Vec<String> = svc
            .members
            .iter()
            .filter_map(|m| policy.service(*m))
            .map(|m| format!("`{}`", m.name))
            .collect();
        let _ = writeln!(s, "- members: {}", names.join(", "));
    }
    let ports: Vec<String> = svc
        .transports
        .iter()
        .map(|t| format!("`{}`", transport(t)))
        .collect();
    let _ = writeln!(
        s,
        "- ports: {}",
        if ports.is_empty() {
            "none".to_string()
        } else {
            ports.join(", ")
        }
    );
    match svc.inspect {
        Some(f) => {
            let keys: Vec<String> = f.keys().iter().map(|k| format!("`{k}`")).collect();
            let _ = writeln!(
                s,
                "- fields a gateway can inspect ({}): {}",
                f.name(),
                keys.join(", ")
            );
        }
        None => s.push_str("- no protocol fields a gateway can inspect\n"),
    }
    let mut provides = Vec::new();
    if svc.integrity {
        provides.push("integrity");
    }
    if svc.confidentiality {
        provides.push("confidentiality");
    }
    let _ = writeln!(
        s,
        "- provides: {}",
        if provides.is_empty() {
            "neither integrity nor confidentiality".to_string()
        } else {
            provides.join(", ")
        }
    );
    if svc.is_local_only() {
        s.push_str("- layer 2, broadcast or multicast: cannot cross a routed conduit\n");
    }
    if svc.std {
        s.push_str("\nfrom the standard library\n");
    }
    s
}

fn conduit(policy: &Policy, c: &Conduit) -> String {
    let mut s = heading("conduit", &c.name, &c.title);
    let arrow = if c.bidirectional { "<->" } else { "->" };
    let _ = writeln!(
        s,
        "`{}` {arrow} `{}`, {} rule(s)",
        policy.zone_name(c.from),
        policy.zone_name(c.to),
        c.rules.len()
    );
    if c.unidirectional {
        s.push_str("\nunidirectional (diode): connectionless traffic one way, nothing back\n");
    }
    if c.log {
        s.push_str("\nlogs new connections and drops\n");
    }
    if let Some(l) = c.security_level {
        let _ = write!(s, "\n{}", sl_table(&[("SL-T", l)]));
    }
    s
}

fn device(policy: &Policy, d: &Device) -> String {
    let kind = match d.kind {
        DeviceKind::Firewall => "firewall",
        DeviceKind::Gateway => "gateway",
    };
    let mut s = heading(kind, &d.name, &d.title);
    let _ = writeln!(
        s,
        "- target: {}",
        d.target.map(|t| t.name()).unwrap_or("not declared")
    );
    for i in &d.interfaces {
        let zones: Vec<String> = i
            .faces
            .iter()
            .map(|z| format!("`{}`", policy.zone_name(*z)))
            .collect();
        let _ = writeln!(s, "- interface `{}` faces {}", i.name, zones.join(", "));
    }
    if d.inline {
        s.push_str("- inline: inspects protocol fields of the traffic it carries\n");
    }
    s
}

fn role(policy: &Policy, r: &Role) -> String {
    let mut s = heading("role", &r.name, &r.title);
    let holders: Vec<String> = policy
        .persons
        .iter()
        .filter(|p| {
            p.roles
                .iter()
                .any(|id| policy.role(*id).is_some_and(|x| x.name == r.name))
        })
        .map(|p| format!("`{}`", p.id))
        .collect();
    if holders.is_empty() {
        s.push_str("no declared person holds it\n");
    } else {
        let _ = writeln!(s, "held by {}", holders.join(", "));
    }
    s
}

fn roles(policy: &Policy, ids: &[RoleId]) -> String {
    ids.iter()
        .filter_map(|r| policy.role(*r))
        .map(|r| format!("`{}`", r.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn workorder(policy: &Policy, w: &WorkOrder) -> String {
    let mut s = heading("work order", &w.name, &w.title);
    let scope: Vec<String> = w
        .scope
        .iter()
        .map(|i| match i {
            ScopeItem::Zone(z) => format!("`{}`", policy.zone_name(*z)),
            ScopeItem::Asset(a) => format!(
                "`{}`",
                policy.asset(*a).map(|a| a.name.as_str()).unwrap_or("?")
            ),
        })
        .collect();
    let _ = writeln!(s, "- scope: {}", scope.join(", "));
    let _ = writeln!(s, "- requested by: {}", roles(policy, &w.requested_by));
    for a in &w.approvals {
        match a {
            Approval::AllOf { roles: r } => {
                let _ = writeln!(s, "- approved by all of: {}", roles(policy, r));
            }
            Approval::NOf { n, roles: r } => {
                let _ = writeln!(s, "- approved by {n} of: {}", roles(policy, r));
            }
        }
    }
    if w.separation_of_duties {
        s.push_str("- separation of duties: the requester never approves\n");
    }
    if let Some(d) = w.max_duration {
        let _ = writeln!(s, "- at most {}", duration(d));
    }
    if w.emergency {
        s.push_str("- emergency (break-glass)\n");
    }
    let _ = writeln!(s, "- opens {} rule(s)", w.rules.len());
    s
}

fn duration(secs: u64) -> String {
    match secs {
        s if s % 86400 == 0 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn dataflow(policy: &Policy, d: &DataFlow) -> String {
    let mut s = heading("data flow", &d.name, &d.title);
    let name = |a: AssetId| {
        policy
            .asset(a)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "?".into())
    };
    if let Some(first) = d.hops.first() {
        let mut chain = format!("`{}`", name(first.from));
        for h in &d.hops {
            let _ = write!(chain, " → `{}`", name(h.to));
        }
        let _ = writeln!(s, "{chain}");
    }
    let mut needs = Vec::new();
    if d.integrity {
        needs.push("integrity");
    }
    if d.confidentiality {
        needs.push("confidentiality");
    }
    if !needs.is_empty() {
        let _ = writeln!(s, "\nrequires {}", needs.join(" and "));
    }
    s
}

fn group(g: &Group) -> String {
    let mut s = heading("group", &g.name, &None);
    let _ = writeln!(s, "addresses: {}", addrs(&g.addrs));
    s
}

fn link(policy: &Policy, l: &Link) -> String {
    let mut s = heading("link", &l.name, &l.title);
    let zones: Vec<String> = l
        .zones
        .iter()
        .map(|z| format!("`{}`", policy.zone_name(*z)))
        .collect();
    let _ = writeln!(s, "joins {} with no filtering", zones.join(", "));
    s
}

/// Constants vanish into the IR; show the definition as written.
fn constant(db: &dyn salsa::Database, def: &Definition) -> Option<String> {
    let text = def.file.text(db);
    let item = parsed(db, def.file)
        .file
        .items
        .iter()
        .find(|i| i.span.start <= def.span.start && def.span.end <= i.span.end)?;
    let written = text.get(item.span.range())?.trim();
    Some(format!(
        "**constant** `{}`\n\n```palisade\n{written}\n```\n",
        def.name
    ))
}

/// What a rule admits, after resolution: addresses, ports, fields and conditions.
pub fn rule(policy: &Policy, topology: &Topology, r: &Rule) -> String {
    let Some(c) = policy.conduit(r.conduit) else {
        return String::new();
    };
    let mut s = format!(
        "**rule {}** of conduit `{}` (`{}` → `{}`)\n\nadmits new connections\n",
        r.index + 1,
        c.name,
        policy.zone_name(r.from),
        policy.zone_name(r.to)
    );
    let _ = writeln!(s, "- from `{}`: {}", r.src.label, addrs(&r.src.addrs));
    let _ = writeln!(s, "- to `{}`: {}", r.dst.label, addrs(&r.dst.addrs));
    for id in policy.leaf_services(&r.services) {
        if let Some(svc) = policy.service(id) {
            let ports: Vec<String> = svc.transports.iter().map(transport).collect();
            let _ = writeln!(s, "- `{}`: {}", svc.name, ports.join(", "));
        }
    }
    if let Some(f) = &r.fields {
        let what = if f.family == ProtocolFamily::Cip {
            "services"
        } else {
            "functions"
        };
        if !f.functions.is_empty() {
            let fns: Vec<String> = f
                .functions
                .iter()
                .map(|n| match &n.name {
                    Some(name) => format!("`{name}` ({})", n.code),
                    None => format!("{}", n.code),
                })
                .collect();
            let _ = writeln!(s, "- {} {what}: {}", f.family.name(), fns.join(", "));
        }
        let ranges = |v: &[(u16, u16)]| {
            v.iter()
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !f.units.is_empty() {
            let _ = writeln!(s, "- unit ids: {}", ranges(&f.units));
        }
        if !f.registers.is_empty() {
            let _ = writeln!(s, "- registers: {}", ranges(&f.registers));
        }
        s.push('\n');
        s.push_str(&enforcement(policy, topology, r.from, r.to));
        s.push('\n');
    }
    match r.workorder.and_then(|w| policy.workorder(w)) {
        Some(w) => {
            let _ = writeln!(
                s,
                "\nonly while an instance of work order `{}` is open, for the assets of its scope",
                w.name
            );
        }
        None => s.push_str("\nalways open\n"),
    }
    if c.unidirectional {
        s.push_str("\nunidirectional conduit: nothing flows back\n");
    } else {
        s.push_str("\nreplies of these connections flow back; they open nothing else\n");
    }
    s
}

/// What the devices between two zones enforce of a rule's protocol fields, as the verifier
/// reasons: a path with no device lets everything through, a path with no inline gateway
/// enforces ports only, and fields are enforced only when every path crosses a gateway.
fn enforcement(policy: &Policy, topology: &Topology, from: ZoneId, to: ZoneId) -> String {
    let is_gateway = |c: &Crossing| matches!(c, Crossing::Device { device, .. } if policy.device(*device).is_some_and(|d| d.inspects()));
    let names = |p: &topology::Path| {
        p.devices()
            .filter_map(|(d, _, _)| policy.device(d))
            .map(|d| format!("`{}`", d.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(p) = topology.shortest(from, to, |c| !c.is_filtered()) {
        let via = p.steps.len();
        return format!("a path with no firewall joins these zones ({via} unfiltered step(s)): nothing of this rule is enforced on it");
    }
    if let Some(p) = topology.shortest(from, to, |c| !is_gateway(c)) {
        return format!("a path crosses no inline gateway (through {}): only the ports are enforced, the fields are documentation", names(&p));
    }
    match topology.shortest(from, to, |_| true) {
        Some(p) => format!(
            "every path crosses an inline gateway (e.g. {}): the fields are enforced",
            names(&p)
        ),
        None => "no device or link joins these zones".to_string(),
    }
}
