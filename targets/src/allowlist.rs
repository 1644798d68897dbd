//! The JSON gateway allowlist (`--target allowlist-json`): for one gateway, every conduit rule
//! whose paths cross it, with source, destination, services and the protocol operations it
//! allows. A documented, versioned format for DPI gateways and integrations; its JSON Schema
//! is `schemas/allowlist.schema.json` and `docs/gateways.md` describes it.
//!
//! Also home to what the gateway targets share: how a conduit rule is named in an output
//! ([`rule_text`]) and its identity, which stays the same when rules are reordered
//! ([`rule_identity`]).

pub mod json;

use crate::header::VERSION;
use crate::{Emitted, OutputFile};
use json::Json;
use palisade_compiler::address::{merge, AddrRange};
use palisade_compiler::hash::sha256_hex;
use palisade_compiler::ir::{
    Access, DeviceId, Endpoint, EndpointRef, FieldConstraints, GatewayMode, NamedCode, Policy,
    ProtocolFamily, RuleId, Transport,
};
use std::collections::{BTreeMap, BTreeSet};

/// The `format` member of every allowlist document.
pub const FORMAT: &str = "palisade-gateway-allowlist";
/// Raised whenever a member changes meaning or a required member is added.
pub const FORMAT_VERSION: i64 = 2;
/// The `$id` of `schemas/allowlist.schema.json`.
pub const SCHEMA_ID: &str = "urn:palisade:schema:gateway-allowlist:1";

/// One file per gateway: `<device>.allowlist.json`.
pub fn emit(policy: &Policy, devices: &[DeviceId]) -> Emitted {
    let placement = crate::model::enforced(policy);
    let mut files = Vec::new();
    for &device in devices {
        let Some(dev) = policy.device(device) else {
            continue;
        };
        let mut rules: BTreeMap<RuleId, Paths> = BTreeMap::new();
        for p in placement.rules_on(device) {
            rules
                .entry(p.rule)
                .or_default()
                .insert((p.in_iface.clone(), p.out_iface.clone()));
        }
        let doc = document(policy, device, &rules);
        files.push(OutputFile {
            path: format!("{}.allowlist.json", dev.name),
            contents: doc,
        });
    }
    Ok(files)
}

/// How outputs name a rule to a person: `dcs_servers -> sis_1 : modbus when workorder x`.
pub fn rule_text(policy: &Policy, rule: RuleId) -> String {
    let Some(r) = policy.rule(rule) else {
        return String::new();
    };
    let services: Vec<&str> = r
        .services
        .iter()
        .filter_map(|s| policy.service(*s))
        .map(|s| s.name.as_str())
        .collect();
    let mut text = format!(
        "{} -> {} : {}",
        r.src.label,
        r.dst.label,
        services.join(", ")
    );
    if let Some(wo) = r.workorder.and_then(|w| policy.workorder(w)) {
        text.push_str(" when workorder ");
        text.push_str(&wo.name);
    }
    text
}

/// What a rule is, independent of where it stands: conduit, endpoints and services as
/// written, work order; plus `#n` when the same conduit repeats such a rule. Stable when
/// rules or conduits are reordered or added elsewhere, so that identifiers derived from it
/// (Suricata sids, the allowlist's `rule.id`) stay put.
pub fn rule_identity(policy: &Policy, rule: RuleId) -> String {
    let base = |id: RuleId| -> Option<String> {
        let r = policy.rule(id)?;
        let conduit = policy
            .conduit(r.conduit)
            .map(|c| c.name.as_str())
            .unwrap_or("?");
        Some(format!("{conduit}|{}", rule_text(policy, id)))
    };
    let Some(mine) = base(rule) else {
        return String::new();
    };
    let Some(r) = policy.rule(rule) else {
        return mine;
    };
    let earlier = policy
        .conduit(r.conduit)
        .map(|c| {
            c.rules
                .iter()
                .filter(|id| policy.rule(**id).is_some_and(|o| o.index < r.index))
                .filter(|id| base(**id).as_deref() == Some(mine.as_str()))
                .count()
        })
        .unwrap_or(0);
    if earlier == 0 {
        mine
    } else {
        format!("{mine}#{}", earlier + 1)
    }
}

/// A short stable identifier: the first 16 hex digits of the identity's SHA-256.
pub fn rule_id(policy: &Policy, rule: RuleId) -> String {
    sha256_hex(rule_identity(policy, rule).as_bytes())
        .chars()
        .take(16)
        .collect()
}

/// Field constraints that restrict something: `modbus {}` restricts nothing.
pub fn restricting(fields: Option<&FieldConstraints>) -> Option<&FieldConstraints> {
    fields.filter(|f| !(f.functions.is_empty() && f.units.is_empty() && f.registers.is_empty()))
}

/// The (in, out) interface pairs a rule's paths take through the device.
type Paths = BTreeSet<(String, String)>;

fn document(policy: &Policy, device: DeviceId, rules: &BTreeMap<RuleId, Paths>) -> String {
    let dev = policy.device(device);
    let device_json = Json::obj([
        (
            "name",
            Json::str(dev.map(|d| d.name.as_str()).unwrap_or("")),
        ),
        ("title", Json::opt_str(dev.and_then(|d| d.title.as_deref()))),
        (
            "description",
            Json::opt_str(dev.and_then(|d| d.description.as_deref())),
        ),
        ("inline", Json::Bool(dev.is_some_and(|d| d.inline))),
        (
            "mode",
            Json::str(dev.map(|d| d.mode.name()).unwrap_or("ips")),
        ),
        (
            "interfaces",
            Json::Array(
                dev.map(|d| d.interfaces.as_slice())
                    .unwrap_or(&[])
                    .iter()
                    .map(|i| {
                        Json::obj([
                            ("name", Json::str(&i.name)),
                            (
                                "faces",
                                Json::Array(
                                    i.faces
                                        .iter()
                                        .map(|z| Json::str(policy.zone_name(*z)))
                                        .collect(),
                                ),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]);
    // Conduits in source order, each with its rules in source order.
    let mut by_conduit: BTreeMap<u32, Vec<(RuleId, &Paths)>> = BTreeMap::new();
    for (id, paths) in rules {
        if let Some(r) = policy.rule(*id) {
            by_conduit
                .entry(r.conduit.0)
                .or_default()
                .push((*id, paths));
        }
    }
    let conduits: Vec<Json> = by_conduit
        .iter()
        .filter_map(|(c, flows)| {
            let conduit = policy.conduits.get(*c as usize)?;
            Some(Json::obj([
                ("name", Json::str(&conduit.name)),
                ("title", Json::opt_str(conduit.title.as_deref())),
                ("description", Json::opt_str(conduit.description.as_deref())),
                ("from_zone", Json::str(policy.zone_name(conduit.from))),
                ("to_zone", Json::str(policy.zone_name(conduit.to))),
                ("bidirectional", Json::Bool(conduit.bidirectional)),
                ("unidirectional", Json::Bool(conduit.unidirectional)),
                ("log", Json::Bool(conduit.log)),
                (
                    "flows",
                    Json::Array(
                        flows
                            .iter()
                            .map(|(id, paths)| flow(policy, *id, paths))
                            .collect(),
                    ),
                ),
            ]))
        })
        .collect();
    let body = Json::obj([
        ("format", Json::str(FORMAT)),
        ("format_version", Json::Int(FORMAT_VERSION)),
        (
            "site",
            Json::obj([
                ("name", Json::str(&policy.site.name)),
                ("timezone", Json::str(&policy.site.timezone)),
            ]),
        ),
        ("device", device_json),
        (
            "default_action",
            Json::str(if dev.is_some_and(|d| d.mode == GatewayMode::Ids) {
                "alert"
            } else {
                "deny"
            }),
        ),
        ("conduits", Json::Array(conduits)),
    ]);
    let content_sha256 = sha256_hex(body.canonical().as_bytes());
    let sources: Vec<Json> = policy
        .sources
        .iter()
        .filter(|s| !s.std)
        .map(|s| {
            Json::obj([
                ("path", Json::str(&s.path)),
                ("sha256", Json::str(&s.sha256)),
            ])
        })
        .collect();
    let header = Json::obj([
        ("generator", Json::str(format!("Palisade {VERSION}"))),
        (
            "notice",
            Json::str("generated from the site's policy; do not edit by hand"),
        ),
        ("target", Json::str("allowlist_json")),
        ("site", Json::str(&policy.site.name)),
        (
            "device",
            Json::str(dev.map(|d| d.name.as_str()).unwrap_or("")),
        ),
        ("sources", Json::Array(sources)),
        ("content_sha256", Json::str(content_sha256)),
    ]);
    // The header first, for a person opening the file; the hash covers everything else.
    let Json::Object(mut members) = body else {
        return String::new();
    };
    members.insert(2, ("header".to_string(), header));
    let mut text = Json::Object(members).pretty();
    text.push('\n');
    text
}

fn flow(policy: &Policy, id: RuleId, paths: &Paths) -> Json {
    let Some(r) = policy.rule(id) else {
        return Json::Null;
    };
    let services: Vec<Json> = policy
        .leaf_services(&r.services)
        .iter()
        .filter_map(|s| policy.service(*s))
        .map(|s| {
            Json::obj([
                ("name", Json::str(&s.name)),
                (
                    "transports",
                    Json::Array(s.transports.iter().map(transport).collect()),
                ),
            ])
        })
        .collect();
    let workorder = r.workorder.and_then(|w| policy.workorder(w)).map(|w| {
        Json::obj([
            ("name", Json::str(&w.name)),
            ("title", Json::opt_str(w.title.as_deref())),
            ("default", Json::str("closed")),
        ])
    });
    Json::obj([
        (
            "rule",
            Json::obj([
                ("id", Json::str(rule_id(policy, id))),
                ("number", Json::Int(i64::from(r.index) + 1)),
                ("text", Json::str(rule_text(policy, id))),
            ]),
        ),
        ("from_zone", Json::str(policy.zone_name(r.from))),
        ("to_zone", Json::str(policy.zone_name(r.to))),
        (
            "paths",
            Json::Array(
                paths
                    .iter()
                    .map(|(i, o)| {
                        Json::obj([
                            ("in_interface", Json::str(i)),
                            ("out_interface", Json::str(o)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("source", endpoint(&r.src)),
        ("destination", endpoint(&r.dst)),
        ("services", Json::Array(services)),
        (
            "operations",
            restricting(r.fields.as_ref())
                .map(operations)
                .unwrap_or(Json::Null),
        ),
        ("workorder", workorder.unwrap_or(Json::Null)),
    ])
}

fn endpoint(e: &Endpoint) -> Json {
    let kind = match e.target {
        EndpointRef::Asset(_) => "asset",
        EndpointRef::Zone(_) => "zone",
        EndpointRef::Group(_) => "group",
        EndpointRef::Literal => "literal",
        EndpointRef::Any => "any",
    };
    Json::obj([
        ("name", Json::str(&e.label)),
        ("kind", Json::str(kind)),
        (
            "addresses",
            Json::Array(
                merge(e.addrs.clone())
                    .iter()
                    .map(|a: &AddrRange| Json::str(a.to_string()))
                    .collect(),
            ),
        ),
    ])
}

fn transport(t: &Transport) -> Json {
    let ports = |proto: &str, lo: u16, hi: u16| {
        Json::obj([
            ("protocol", Json::str(proto)),
            (
                "ports",
                Json::obj([("from", Json::Int(lo.into())), ("to", Json::Int(hi.into()))]),
            ),
        ])
    };
    let icmp = |proto: &str, ty: Option<u8>, code: Option<u8>| {
        let n = |v: Option<u8>| v.map(|v| Json::Int(v.into())).unwrap_or(Json::Null);
        Json::obj([
            ("protocol", Json::str(proto)),
            ("type", n(ty)),
            ("code", n(code)),
        ])
    };
    match *t {
        Transport::Tcp { lo, hi } => ports("tcp", lo, hi),
        Transport::Udp { lo, hi } => ports("udp", lo, hi),
        Transport::Icmp { icmp_type, code } => icmp("icmp", icmp_type, code),
        Transport::Icmpv6 { icmp_type, code } => icmp("icmpv6", icmp_type, code),
        Transport::Ip { number } => Json::obj([
            ("protocol", Json::str("ip")),
            ("number", Json::Int(number.into())),
        ]),
        Transport::Ethertype { value } => Json::obj([
            ("protocol", Json::str("ethertype")),
            ("value", Json::Int(value.into())),
        ]),
    }
}

fn access_name(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::Write => "write",
        Access::Diagnostic => "diagnostic",
        Access::Other => "other",
    }
}

fn codes(list: &[NamedCode]) -> Json {
    if list.is_empty() {
        return Json::Null;
    }
    Json::Array(
        list.iter()
            .map(|f| {
                Json::obj([
                    ("code", Json::Int(f.code.into())),
                    ("name", Json::opt_str(f.name.as_deref())),
                    (
                        "access",
                        f.access
                            .map(|a| Json::str(access_name(a)))
                            .unwrap_or(Json::Null),
                    ),
                ])
            })
            .collect(),
    )
}

fn ranges(list: &[(u16, u16)]) -> Json {
    if list.is_empty() {
        return Json::Null;
    }
    Json::Array(
        list.iter()
            .map(|(lo, hi)| {
                Json::obj([
                    ("from", Json::Int((*lo).into())),
                    ("to", Json::Int((*hi).into())),
                ])
            })
            .collect(),
    )
}

/// The allowed requests; a `null` list allows every value of that field.
fn operations(f: &FieldConstraints) -> Json {
    match f.family {
        ProtocolFamily::Modbus => Json::obj([
            ("protocol", Json::str("modbus")),
            ("functions", codes(&f.functions)),
            ("units", ranges(&f.units)),
            ("registers", ranges(&f.registers)),
        ]),
        ProtocolFamily::Dnp3 => Json::obj([
            ("protocol", Json::str("dnp3")),
            ("functions", codes(&f.functions)),
        ]),
        ProtocolFamily::Cip => Json::obj([
            ("protocol", Json::str("cip")),
            ("services", codes(&f.functions)),
        ]),
    }
}
