//! Suricata 7 rules for protocol-aware gateways (`--target suricata`).
//!
//! For each gateway: `<device>.rules` with, for every flow whose conduit rules constrain
//! Modbus, DNP3 or CIP fields, an alert (a drop with `--ips`) on every request those rules do
//! not allow, and on traffic to the protocol's port that is not the protocol; and
//! `<device>.suricata.yaml`, the app-layer settings those rules need. A work order whose rules
//! change what the gateway allows gets `<device>.during-<order>.rules`, the rule set to load
//! while an instance of it is open.
//!
//! There are no `pass` rules: in Suricata a matching `pass` passes the rest of a TCP flow, so a
//! forbidden request after an allowed one on the same connection would go unseen. Each rule
//! instead matches a forbidden request directly ([`complement`]), and the rules do not
//! overlap, so a forbidden request raises one alert and an allowed one none, wherever it
//! stands on its connection. Sids come from what a rule is (conduit rules, flow, condition),
//! never from its position, so they survive edits elsewhere in the site.

pub mod boundary;
pub mod cells;
pub mod complement;
mod syntax;

use crate::allowlist::{restricting, rule_id, rule_identity, rule_text};
use crate::header::commented;
use crate::text;
use crate::{Emitted, OutputFile};
use cells::{flow_groups, merge_ports, FlowGroup, Grant};
use complement::{Address, Allowed, Function, Problem};
use palisade_compiler::address::AddrRange;
use palisade_compiler::diagnostic::{normalize, Diagnostic};
use palisade_compiler::ir::{
    DeviceId, FieldConstraints, GatewayMode, Policy, ProtocolFamily, RuleId, Transport, WorkOrderId,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use syntax::{addr_list, assign_sids, port_list, range_text, ranges_text, unit_text};

/// The longest `msg` of a rule (the rest of the rule is short; Suricata cuts at 8,191 bytes).
const MSG_MAX: usize = 400;

/// Sids are drawn from `SID_BASE .. SID_BASE + SID_SPAN`, clear of the ranges public rule sets
/// use (ET Open: 2 000 000 – 2 999 999 and 9 000 000+ are below 1 000 000 000).
pub const SID_BASE: u32 = 1_000_000_000;
pub const SID_SPAN: u32 = 1_000_000_000;

const FAMILIES: [ProtocolFamily; 3] = [
    ProtocolFamily::Modbus,
    ProtocolFamily::Dnp3,
    ProtocolFamily::Cip,
];

/// Suricata's app-layer name and default port for a field family.
fn app(family: ProtocolFamily) -> (&'static str, &'static str, u16) {
    match family {
        ProtocolFamily::Modbus => ("modbus", "Modbus", 502),
        ProtocolFamily::Dnp3 => ("dnp3", "DNP3", 20000),
        ProtocolFamily::Cip => ("enip", "EtherNet/IP", 44818),
    }
}

/// One file per gateway (plus one per work order that changes it) and its YAML fragment.
pub fn emit(policy: &Policy, devices: &[DeviceId]) -> Emitted {
    let placement = crate::model::enforced(policy);
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for &device in devices {
        let Some(dev) = policy.device(device) else {
            continue;
        };
        let ips = dev.mode == GatewayMode::Ips;
        let action = if ips { "drop" } else { "alert" };
        let rules: BTreeSet<RuleId> = placement.rules_on(device).map(|p| p.rule).collect();
        check_rules(policy, &rules, &mut problems);
        let base = compile(
            policy,
            &rules,
            &BTreeMap::new(),
            action,
            true,
            &mut problems,
        );
        let intro = format!(
            "# Allowlist of gateway {} (mode {}: {}).\n\
             # Load with the app-layer settings in {}.suricata.yaml.\n",
            dev.name,
            dev.mode.name(),
            if ips {
                "what no conduit rule admits, at port or field level, is dropped, and with it the rest of its flow"
            } else {
                "what no conduit rule admits raises an alert; nothing is dropped"
            },
            dev.name
        );
        files.push(rules_file(
            policy,
            Some(&dev.name),
            format!("{}.rules", dev.name),
            &intro,
            &base.text,
        ));
        let orders: BTreeSet<WorkOrderId> = rules
            .iter()
            .filter_map(|r| policy.rule(*r).and_then(|r| r.workorder))
            .collect();
        for wo in orders {
            let during = compile(
                policy,
                &rules,
                &[(wo, policy.scope_addrs(wo))].into_iter().collect(),
                action,
                true,
                &mut problems,
            );
            let Some(order) = policy.workorder(wo) else {
                continue;
            };
            if during.text != base.text {
                let intro = format!(
                    "{intro}# While an instance of work order {} is open on its whole scope: its rules are open\n\
                     # here for packets with one end in the scope. Swap back to {}.rules when it closes.\n",
                    order.name, dev.name
                );
                files.push(rules_file(
                    policy,
                    Some(&dev.name),
                    format!("{}.during-{}.rules", dev.name, order.name),
                    &intro,
                    &during.text,
                ));
            }
        }
        let all_ports = compile(
            policy,
            &rules,
            &policy_orders(policy),
            action,
            true,
            &mut Vec::new(),
        );
        files.push(yaml_file(
            policy,
            Some(&dev.name),
            format!("{}.suricata.yaml", dev.name),
            &base.ports.merged(&all_ports.ports),
            ips,
        ));
    }
    finish(policy, files, problems)
}

/// The rule file of gateway `device` while one instance of `wo` is open on `scope` (the
/// order's flows with one end in the scope, nothing more), with the base file it replaces:
/// what `palisade workorder open` installs on a Suricata gateway and `close` restores.
pub fn instance_files(
    policy: &Policy,
    device: DeviceId,
    wo: WorkOrderId,
    scope: &[AddrRange],
    label: &str,
) -> Result<(OutputFile, OutputFile), Vec<Diagnostic>> {
    let base = emit(policy, &[device])?;
    let dev = policy.device(device).ok_or_else(Vec::new)?;
    let path = format!("{}.rules", dev.name);
    let base = base
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(Vec::new)?;
    let placement = crate::model::enforced(policy);
    let rules: BTreeSet<RuleId> = placement.rules_on(device).map(|p| p.rule).collect();
    let action = if dev.mode == GatewayMode::Ips {
        "drop"
    } else {
        "alert"
    };
    let open: BTreeMap<WorkOrderId, Vec<AddrRange>> = [(wo, scope.to_vec())].into_iter().collect();
    let mut problems = Vec::new();
    let compiled = compile(policy, &rules, &open, action, true, &mut problems);
    if !problems.is_empty() {
        return finish(policy, Vec::new(), problems).map(|_| (base.clone(), base));
    }
    let order = policy.workorder(wo).map(|w| w.name.as_str()).unwrap_or("?");
    let intro = format!(
        "# Rules of gateway {} (mode {}) while work order {order} is open for {}.\n\
         # Restore {path} from the build when the instance closes.\n",
        dev.name,
        dev.mode.name(),
        text::comment_field(label)
    );
    let open_file = rules_file(policy, Some(&dev.name), path, &intro, &compiled.text);
    Ok((base, open_file))
}

/// A monitoring rule set for a SOC sensor: every conduit's protocol constraints, wherever the
/// traffic runs, always `alert` (a sensor on a SPAN port cannot drop).
pub fn monitor(policy: &Policy) -> Emitted {
    let rules: BTreeSet<RuleId> = (0..policy.rules.len()).map(|i| RuleId(i as u32)).collect();
    let mut problems = Vec::new();
    check_rules(policy, &rules, &mut problems);
    let base = compile(
        policy,
        &rules,
        &BTreeMap::new(),
        "alert",
        false,
        &mut problems,
    );
    let intro = "# Monitoring rule set for a SOC sensor: the protocol constraints of every conduit of the\n\
                 # site, whichever gateway (if any) enforces them. Alerts only. Rules under a work order\n\
                 # are closed: expect their requests to alert while an order is open.\n\
                 # Load with the app-layer settings in palisade-monitor.suricata.yaml.\n";
    let all_ports = compile(
        policy,
        &rules,
        &policy_orders(policy),
        "alert",
        false,
        &mut Vec::new(),
    );
    let files = vec![
        rules_file(
            policy,
            None,
            "palisade-monitor.rules".to_string(),
            intro,
            &base.text,
        ),
        yaml_file(
            policy,
            None,
            "palisade-monitor.suricata.yaml".to_string(),
            &base.ports.merged(&all_ports.ports),
            false,
        ),
    ];
    finish(policy, files, problems)
}

/// Every work order open on its whole scope.
fn policy_orders(policy: &Policy) -> BTreeMap<WorkOrderId, Vec<AddrRange>> {
    (0..policy.workorders.len())
        .map(|i| WorkOrderId(i as u32))
        .map(|w| (w, policy.scope_addrs(w)))
        .collect()
}

fn finish(policy: &Policy, files: Vec<OutputFile>, problems: Vec<Problem>) -> Emitted {
    if problems.is_empty() {
        return Ok(files);
    }
    let mut diags: Vec<Diagnostic> = problems
        .into_iter()
        .map(|p| {
            let d = Diagnostic::error(p.code, p.message).help(p.help);
            match policy.rule(p.rule) {
                Some(r) => {
                    let span = r.fields.as_ref().map(|f| f.span).unwrap_or(r.span);
                    d.primary(policy.location(span), "Suricata 7 cannot enforce this")
                }
                None => d,
            }
        })
        .collect();
    normalize(&mut diags);
    Err(diags)
}

fn rules_file(
    policy: &Policy,
    device: Option<&str>,
    path: String,
    intro: &str,
    text: &str,
) -> OutputFile {
    let body = format!("{intro}{text}");
    let head = commented(policy, device, "suricata", &body, "# ");
    OutputFile {
        path,
        contents: format!("{head}#\n{body}"),
    }
}

/// Per family, the TCP ports the rules inspect.
#[derive(Clone, Debug, Default)]
struct PortsUsed(BTreeMap<ProtocolFamily, Vec<(u16, u16)>>);

impl PortsUsed {
    fn merged(&self, other: &PortsUsed) -> PortsUsed {
        let mut out = self.0.clone();
        for (f, p) in &other.0 {
            let e = out.entry(*f).or_default();
            e.extend(p.iter().copied());
            *e = merge_ports(std::mem::take(e));
        }
        PortsUsed(out)
    }
}

fn yaml_file(
    policy: &Policy,
    device: Option<&str>,
    path: String,
    ports: &PortsUsed,
    ips: bool,
) -> OutputFile {
    let rules_name = path.trim_end_matches(".suricata.yaml");
    let mut body = format!(
        "# App-layer settings that {rules_name}.rules needs. Dotted keys change single settings and keep the\n\
         # rest of suricata.yaml. Load with `--include /absolute/path/{path}` or add\n\
         # `include: {path}` to suricata.yaml (relative paths are taken from its directory).\n"
    );
    for (family, used) in &ports.0 {
        let (name, _, default) = app(*family);
        let mut all = used.clone();
        all.push((default, default));
        let _ = writeln!(body, "app-layer.protocols.{name}.enabled: yes");
        let _ = writeln!(
            body,
            "app-layer.protocols.{name}.detection-ports.dp: \"{}\"",
            port_list(&merge_ports(all))
        );
    }
    body.push_str(
        "# Polling connections stay open for weeks; past stream.reassembly.depth bytes (1mb by\n\
         # default) Suricata 7 stops parsing a stream and these rules would no longer see it.\n\
         stream.reassembly.depth: 0\n",
    );
    if ips {
        body.push_str(
            "# A request the parser cannot read ends inspection of its flow: drop the flow instead.\n\
             app-layer.error-policy: drop-flow\n",
        );
    }
    let head = commented(policy, device, "suricata", &body, "# ");
    OutputFile {
        path,
        contents: format!("%YAML 1.1\n---\n{head}#\n{body}"),
    }
}

/// Rule-level checks: transports and codes Suricata 7 cannot inspect.
fn check_rules(policy: &Policy, rules: &BTreeSet<RuleId>, problems: &mut Vec<Problem>) {
    for &id in rules {
        let Some(r) = policy.rule(id) else { continue };
        let Some(f) = restricting(r.fields.as_ref()) else {
            continue;
        };
        let (_, title, _) = app(f.family);
        let udp = policy
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| policy.service(*s))
            .any(|s| {
                s.transports
                    .iter()
                    .any(|t| matches!(t, Transport::Udp { .. }))
            });
        if udp {
            problems.push(Problem {
                rule: id,
                code: "E0931",
                message: format!("cannot enforce {title} constraints on a UDP service with Suricata"),
                help: "the Suricata target inspects Modbus, DNP3 and EtherNet/IP over TCP only; use the TCP service or the allowlist_json target".to_string(),
            });
        }
        match f.family {
            ProtocolFamily::Modbus => {
                for c in f
                    .functions
                    .iter()
                    .filter(|c| !complement::MODBUS_NAMED.contains(&c.code))
                {
                    problems.push(Problem {
                        rule: id,
                        code: "E0930",
                        message: format!("cannot enforce Modbus function code {} with Suricata 7", c.code),
                        help: "Suricata 7 names only function codes 1-24 and 43 and takes every other code for every other one, so it cannot allow one of them alone; leave it out or use the allowlist_json target".to_string(),
                    });
                }
            }
            ProtocolFamily::Cip => {
                for c in f
                    .functions
                    .iter()
                    .filter(|c| c.code > complement::CIP_MAX_SERVICE)
                {
                    problems.push(Problem {
                        rule: id,
                        code: "E0930",
                        message: format!("cannot enforce CIP service {:#04x} ({}) with Suricata 7", c.code, c.code),
                        help: "`cip_service` reads at most two decimal digits, so 100 would match service 10".to_string(),
                    });
                }
            }
            ProtocolFamily::Dnp3 => {}
        }
    }
}

/// The rules text of one rule set and the ports it inspects.
struct Compiled {
    text: String,
    ports: PortsUsed,
}

/// One Suricata rule before its sid is known.
struct Planned {
    group: usize,
    identity: String,
    header: String,
    msg: String,
    keywords: String,
    metadata: String,
    flowbit: bool,
}

/// The rules of one rule set: with `boundary`, first the port-level allowlist of the
/// gateway's boundary ([`boundary`]), then the forbidden requests of every constrained flow.
fn compile(
    policy: &Policy,
    rules: &BTreeSet<RuleId>,
    open: &BTreeMap<WorkOrderId, Vec<AddrRange>>,
    action: &str,
    boundary: bool,
    problems: &mut Vec<Problem>,
) -> Compiled {
    let active: Vec<RuleId> = rules
        .iter()
        .copied()
        .filter(|r| {
            policy
                .rule(*r)
                .is_some_and(|r| r.workorder.is_none_or(|w| open.contains_key(&w)))
        })
        .collect();
    let mut groups: Vec<(ProtocolFamily, FlowGroup)> = Vec::new();
    let mut ports = PortsUsed::default();
    for family in FAMILIES {
        let grants = grants(policy, &active, open, family);
        if !grants.iter().any(|g| g.constrained) {
            continue;
        }
        let used: Vec<(u16, u16)> = grants
            .iter()
            .filter(|g| g.constrained)
            .map(|g| g.ports)
            .collect();
        ports.0.insert(family, merge_ports(used));
        groups.extend(flow_groups(&grants).into_iter().map(|g| (family, g)));
    }
    let mut planned = Vec::new();
    for (i, (family, group)) in groups.iter().enumerate() {
        plan_group(policy, i, *family, group, problems, &mut planned);
    }
    let edge = if boundary {
        let grants = boundary::grants(policy, &active, open);
        boundary::rules(&grants, addr_list, port_list)
    } else {
        Vec::new()
    };
    let edge_start = planned.len();
    for b in &edge {
        planned.push(Planned {
            group: usize::MAX,
            identity: format!("boundary|{}|{}|{}", b.header, b.flow, b.keywords),
            header: b.header.clone(),
            msg: text::suricata_msg(&format!("palisade: {}", b.what), MSG_MAX),
            keywords: b.keywords.clone(),
            // At most a few: a class of uncovered addresses may border many rules.
            metadata: rules_metadata(policy, b.rules.iter().take(4)),
            flowbit: false,
        });
    }
    let sids = assign_sids(&planned);
    let mut text = String::new();
    if boundary {
        text.push_str(
            "\n# Boundary: every packet that opens a flow through here and that no open conduit rule\n\
             # admits (addresses, protocol, port).\n",
        );
        for (b, (p, sid)) in edge.iter().zip(planned.iter().zip(&sids).skip(edge_start)) {
            let kw = if b.keywords.is_empty() {
                String::new()
            } else {
                format!(" {}", b.keywords)
            };
            let meta = if p.metadata.is_empty() {
                String::new()
            } else {
                format!(" metadata: {};", p.metadata)
            };
            let _ = writeln!(
                text,
                "{action} {} (msg:\"{}\"; flow:{};{kw}{meta} sid:{sid}; rev:1;)",
                p.header, p.msg, b.flow
            );
        }
    }
    if groups.is_empty() {
        text.push_str(
            "#\n# No conduit rule through here constrains protocol fields: nothing to inspect.\n",
        );
    }
    for (i, (family, group)) in groups.iter().enumerate() {
        text.push_str(&group_comment(policy, *family, group));
        for (p, sid) in planned.iter().zip(&sids).filter(|(p, _)| p.group == i) {
            let bits = if p.flowbit {
                format!(" flowbits:isnotset,palisade.{sid}; flowbits:set,palisade.{sid};")
            } else {
                String::new()
            };
            let _ = writeln!(text, "{action} {} (msg:\"{}\"; flow:to_server,established; {}{bits} metadata: {}; sid:{sid}; rev:1;)", p.header, p.msg, p.keywords, p.metadata);
        }
    }
    Compiled { text, ports }
}

/// `palisade_conduit c, palisade_rule id` for the rules behind a Suricata rule.
fn rules_metadata<'a>(policy: &Policy, rules: impl Iterator<Item = &'a RuleId>) -> String {
    let mut m: Vec<String> = Vec::new();
    for r in rules {
        if let Some(c) = policy.rule(*r).and_then(|r| policy.conduit(r.conduit)) {
            m.push(format!(
                "palisade_conduit {}",
                text::suricata_metadata(&c.name)
            ));
        }
        m.push(format!("palisade_rule {}", rule_id(policy, *r)));
    }
    m.dedup();
    m.join(", ")
}

/// The traffic each active rule admits, for one protocol. A rule under an open work order
/// admits only packets with one end in the instance's scope, as at the boundary.
fn grants(
    policy: &Policy,
    active: &[RuleId],
    open: &BTreeMap<WorkOrderId, Vec<AddrRange>>,
    family: ProtocolFamily,
) -> Vec<Grant> {
    let mut out = Vec::new();
    for &id in active {
        let Some(r) = policy.rule(id) else { continue };
        let constrained = restricting(r.fields.as_ref()).is_some_and(|f| f.family == family);
        let ends = boundary::scoped_ends(r, r.workorder.and_then(|w| open.get(&w)));
        for s in policy
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| policy.service(*s))
        {
            for t in &s.transports {
                let ports = match *t {
                    Transport::Tcp { lo, hi } => (lo, hi),
                    Transport::Ip { number: 6 } => (0, u16::MAX),
                    _ => continue,
                };
                for (src, dst) in &ends {
                    out.push(Grant {
                        rule: id,
                        src: src.clone(),
                        dst: dst.clone(),
                        ports,
                        constrained,
                    });
                }
            }
        }
    }
    out
}

fn fields_of(policy: &Policy, rule: RuleId) -> Option<&FieldConstraints> {
    policy
        .rule(rule)
        .and_then(|r| restricting(r.fields.as_ref()))
}

fn plan_group(
    policy: &Policy,
    index: usize,
    family: ProtocolFamily,
    group: &FlowGroup,
    problems: &mut Vec<Problem>,
    out: &mut Vec<Planned>,
) {
    let allowed: Vec<Allowed> = group
        .rules
        .iter()
        .filter_map(|r| fields_of(policy, *r).map(|f| Allowed::new(*r, f)))
        .collect();
    let mut identities: Vec<String> = group
        .rules
        .iter()
        .map(|r| rule_identity(policy, *r))
        .collect();
    identities.sort();
    let (app_name, title, _) = app(family);
    let tail = format!(": not allowed by {}", rules_named(policy, &group.rules));
    let head = |proto: &str| {
        format!(
            "{proto} {} any -> {} {}",
            addr_list(&group.src),
            addr_list(&group.dst),
            port_list(&group.ports)
        )
    };
    let metadata = rules_metadata(policy, group.rules.iter());
    let mut push = |keywords: String, what: String, proto: &str, flowbit: bool| {
        let identity = format!(
            "{app_name}|{}|{}|{keywords}",
            identities.join(";"),
            group.ordinal
        );
        out.push(Planned {
            group: index,
            identity,
            header: head(proto),
            msg: text::suricata_msg(&format!("palisade: {what}{tail}"), MSG_MAX),
            keywords,
            metadata: metadata.clone(),
            flowbit,
        });
    };
    push(
        format!("app-layer-protocol:!{app_name};"),
        format!("not {title} on the {title} port"),
        "tcp",
        true,
    );
    match family {
        ProtocolFamily::Modbus => {
            for m in complement::modbus(&allowed, problems) {
                let mut kw = match m.function {
                    Function::Named(c) => format!("modbus: function {c};"),
                    Function::Unnamed => {
                        format!("modbus: function {};", complement::MODBUS_UNNAMED)
                    }
                };
                let mut what = match m.function {
                    Function::Named(c) => {
                        format!("modbus function {c}{}", name_suffix(policy, family, c))
                    }
                    Function::Unnamed => "modbus function code outside 1-24 and 43".to_string(),
                };
                if let Some((unit, (lo, hi))) = m.unit {
                    let _ = write!(kw, " modbus: unit {};", unit_text(unit));
                    let _ = write!(what, " unit {}", range_text(lo.into(), hi.into()));
                }
                if let Some((write, cond, (lo, hi))) = m.address {
                    let access = if write { "write" } else { "read" };
                    match cond {
                        Address::Below(n) => {
                            let _ = write!(kw, " modbus: access {access}, address <{n};");
                        }
                        Address::Above(n) => {
                            let _ = write!(kw, " modbus: access {access}, address >{n};");
                        }
                        Address::Between(a, b) => {
                            let _ = write!(kw, " modbus: access {access}, address >{a}; modbus: access {access}, address <{b};");
                        }
                    }
                    let _ = write!(what, " registers {}", range_text(lo, hi));
                }
                push(kw, what, app_name, false);
            }
        }
        ProtocolFamily::Dnp3 => {
            if let Some(codes) = complement::dnp3(&allowed, problems) {
                let tests: Vec<String> = codes
                    .iter()
                    .map(|c| format!("byte_test:1,!=,{c},1;"))
                    .collect();
                let names: Vec<String> = codes
                    .iter()
                    .map(|c| code_name(policy, family, *c))
                    .collect();
                push(
                    format!("dnp3_data; {}", tests.join(" ")),
                    format!("dnp3 function not in {}", names.join(" ")),
                    app_name,
                    false,
                );
            }
        }
        ProtocolFamily::Cip => {
            for c in complement::cip(&allowed) {
                push(
                    format!("cip_service:{c};"),
                    format!("cip service {c:#04x}{}", name_suffix(policy, family, c)),
                    app_name,
                    false,
                );
            }
        }
    }
}

/// The catalogue's name of a code, or the code.
fn code_name(policy: &Policy, family: ProtocolFamily, code: u8) -> String {
    match name_suffix(policy, family, code).trim() {
        "" => code.to_string(),
        name => name.to_string(),
    }
}

/// ` write_single_register`: the catalogue's name of a code, if it has one.
fn name_suffix(policy: &Policy, family: ProtocolFamily, code: u8) -> String {
    policy
        .protocols
        .iter()
        .filter(|p| p.family == family)
        .flat_map(|p| p.functions.iter())
        .find(|f| f.code == code)
        .map(|f| format!(" {}", f.name))
        .unwrap_or_default()
}

/// `conduit sis_monitoring rule 1 (dcs_servers -> sis_1 : modbus)`, or a list of rules.
fn rules_named(policy: &Policy, rules: &[RuleId]) -> String {
    if let [one] = rules {
        let Some(r) = policy.rule(*one) else {
            return String::new();
        };
        let conduit = policy
            .conduit(r.conduit)
            .map(|c| c.name.as_str())
            .unwrap_or("?");
        return format!(
            "conduit {conduit} rule {} ({})",
            r.index + 1,
            rule_text(policy, *one)
        );
    }
    let mut by_conduit: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for r in rules.iter().filter_map(|r| policy.rule(*r)) {
        by_conduit.entry(r.conduit.0).or_default().push(r.index + 1);
    }
    let parts: Vec<String> = by_conduit
        .iter()
        .map(|(c, n)| {
            let name = policy
                .conduits
                .get(*c as usize)
                .map(|c| c.name.as_str())
                .unwrap_or("?");
            let nums: Vec<String> = n.iter().map(|n| n.to_string()).collect();
            format!("conduit {name} rules {}", nums.join(", "))
        })
        .collect();
    parts.join("; ")
}

fn group_comment(policy: &Policy, family: ProtocolFamily, group: &FlowGroup) -> String {
    let (_, title, _) = app(family);
    let mut s = String::from("\n");
    let mut last_conduit = None;
    for &id in &group.rules {
        let Some(r) = policy.rule(id) else { continue };
        if last_conduit != Some(r.conduit) {
            if let Some(c) = policy.conduit(r.conduit) {
                let title = c
                    .title
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "# conduit {} ({} -> {}){}",
                    text::comment_field(&c.name),
                    text::comment_field(policy.zone_name(c.from)),
                    text::comment_field(policy.zone_name(c.to)),
                    text::comment_field(&title)
                );
            }
            last_conduit = Some(r.conduit);
        }
        let _ = writeln!(
            s,
            "#   rule {}: {}",
            r.index + 1,
            text::comment(&rule_text(policy, id), 400)
        );
        if let Some(f) = restricting(r.fields.as_ref()) {
            let _ = writeln!(s, "#     allows {}", text::comment(&allows_text(f), 800));
        }
    }
    let _ = writeln!(
        s,
        "# {title} from {} to {} port {}: everything else is forbidden",
        text::comment(&ranges_text(&group.src), 300),
        text::comment(&ranges_text(&group.dst), 300),
        port_list(&group.ports)
    );
    if family == ProtocolFamily::Cip {
        s.push_str("# (cip_service can name services 0-99 only; 100-127 are reserved by CIP and not matched)\n");
        let wraps = group
            .rules
            .iter()
            .filter_map(|r| fields_of(policy, *r))
            .any(|f| f.functions.iter().any(|c| c.code == 0x52));
        if wraps {
            s.push_str("# (0x52 is also Unconnected Send, which can carry any service; Suricata 7 does not look inside it)\n");
        }
    }
    if family == ProtocolFamily::Modbus {
        s.push_str("# (`function 255` matches every function code Suricata has no name for; addresses count from 1)\n");
    }
    s
}

fn allows_text(f: &FieldConstraints) -> String {
    let list = |codes: &[palisade_compiler::ir::NamedCode]| -> String {
        if codes.is_empty() {
            return "any".to_string();
        }
        let v: Vec<String> = codes
            .iter()
            .map(|c| match &c.name {
                Some(n) => format!("{n} ({})", c.code),
                None => c.code.to_string(),
            })
            .collect();
        v.join(", ")
    };
    let ranges = |r: &[(u16, u16)]| -> String {
        if r.is_empty() {
            return "any".to_string();
        }
        let v: Vec<String> = r
            .iter()
            .map(|(a, b)| range_text((*a).into(), (*b).into()))
            .collect();
        v.join(", ")
    };
    match f.family {
        ProtocolFamily::Modbus => format!(
            "functions {}; units {}; registers {}",
            list(&f.functions),
            ranges(&f.units),
            ranges(&f.registers)
        ),
        ProtocolFamily::Dnp3 => format!("functions {}", list(&f.functions)),
        ProtocolFamily::Cip => format!("services {}", list(&f.functions)),
    }
}
