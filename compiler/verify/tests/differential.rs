//! Differential test: on random small sites (up to 6 zones, 20 rules), the verifier's verdict
//! for every ordered zone pair and service equals a brute-force evaluator over a reduced
//! packet domain that contains every address and port the rules name; its transitive
//! verdicts equal a plain breadth-first search over the brute-force direct edges.
//!
//! The evaluator is written here from the language's meaning, not from the verifier's code:
//! it enumerates the topology's simple paths to decide what is enforced between two zones.

use crate::support::from_text;
use palisade_compiler::ir::{DeviceKind, Place, Policy, ServiceId, Transport, ZoneId};
use palisade_compiler::topology::Topology;
use palisade_verify::network::Network;
use palisade_verify::scenario::Scenario;
use palisade_verify::{assertions, Ctx, Options, Verdict};
use proptest::prelude::*;
use std::collections::BTreeSet;

const SERVICES: [&str; 5] = ["modbus", "https", "dns", "ping", "ssh"];

#[derive(Clone, Debug)]
struct RuleSpec {
    from: usize,
    to: usize,
    src_any: bool,
    dst_any: bool,
    src_host: u8,
    dst_host: u8,
    service: usize,
    functions: Option<Vec<u8>>,
    workorder: bool,
}

#[derive(Clone, Debug)]
struct SiteSpec {
    zones: usize,
    /// Zones behind the one gateway (its second side faces zone 0).
    gateway: Vec<usize>,
    /// A link joining two zones with no filtering.
    link: Option<(usize, usize)>,
    rules: Vec<RuleSpec>,
}

fn rule_spec(zones: usize) -> impl Strategy<Value = RuleSpec> {
    (
        0..zones,
        1..zones,
        any::<bool>(),
        any::<bool>(),
        1u8..3,
        1u8..3,
        0..SERVICES.len(),
        prop::option::of(prop::sample::subsequence(vec![3u8, 6], 1..=2)),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            move |(
                from,
                d,
                src_any,
                dst_any,
                src_host,
                dst_host,
                service,
                functions,
                workorder,
            )| RuleSpec {
                from,
                to: (from + d) % zones,
                src_any,
                dst_any,
                src_host,
                dst_host,
                service,
                functions,
                workorder,
            },
        )
}

fn site_spec() -> impl Strategy<Value = SiteSpec> {
    (2usize..=6).prop_flat_map(|zones| {
        (
            Just(zones),
            prop::collection::btree_set(1..zones, 0..zones.min(3)),
            prop::option::of((0..zones, 0..zones)),
            prop::collection::vec(rule_spec(zones), 0..=20),
        )
            .prop_map(|(zones, gateway, link, rules)| SiteSpec {
                zones,
                gateway: gateway.into_iter().collect(),
                link: link.filter(|(a, b)| a != b),
                rules,
            })
    })
}

fn text(spec: &SiteSpec) -> String {
    let mut s = String::from("site \"Random\" { timezone \"UTC\" }\nuse std.services\nrole tech\n");
    for z in 0..spec.zones {
        s.push_str(&format!("zone z{z} {{ security_level 1; network 10.0.{z}.0/24\n  asset h{z}_1 at 10.0.{z}.1\n  asset h{z}_2 at 10.0.{z}.2 }}\n"));
    }
    let mut conduits: Vec<(usize, usize)> = spec.rules.iter().map(|r| (r.from, r.to)).collect();
    conduits.sort();
    conduits.dedup();
    for (a, b) in conduits {
        s.push_str(&format!("conduit c{a}_{b}: z{a} -> z{b} {{\n"));
        for r in spec.rules.iter().filter(|r| (r.from, r.to) == (a, b)) {
            let src = if r.src_any {
                "any".to_string()
            } else {
                format!("h{}_{}", r.from, r.src_host)
            };
            let dst = if r.dst_any {
                "any".to_string()
            } else {
                format!("h{}_{}", r.to, r.dst_host)
            };
            let svc = SERVICES[r.service];
            let fields = match (&r.functions, svc) {
                (Some(f), "modbus") => format!(
                    " {{ function [{}] }}",
                    f.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            let wo = if r.workorder {
                " when workorder fix"
            } else {
                ""
            };
            s.push_str(&format!("  allow {src} -> {dst} : {svc}{fields}{wo}\n"));
        }
        s.push_str("}\n");
    }
    // One firewall with every zone not behind the gateway on its own interface.
    s.push_str("firewall fw { target nftables\n");
    for z in (0..spec.zones).filter(|z| !spec.gateway.contains(z)) {
        s.push_str(&format!("  interface \"e{z}\" faces z{z}\n"));
    }
    s.push_str("}\n");
    for z in &spec.gateway {
        s.push_str(&format!(
            "gateway gw{z} {{ target suricata; inline between z0 and z{z} }}\n"
        ));
    }
    if let Some((a, b)) = spec.link {
        s.push_str(&format!("link l: z{a}, z{b}\n"));
    }
    if spec.rules.iter().any(|r| r.workorder) {
        s.push_str(
            "workorder fix { scope [z1]; requested_by tech; approved_by tech; max_duration 1h }\n",
        );
    }
    s
}

/// A concrete packet of the reduced domain.
#[derive(Clone, Copy, Debug)]
struct Pkt {
    src: (usize, u8),
    dst: (usize, u8),
    proto: u8,
    port: u16,
    icmp: u8,
    function: u8,
}

fn domain(zones: usize) -> Vec<Pkt> {
    let hosts: Vec<(usize, u8)> = (0..zones)
        .flat_map(|z| [1u8, 2, 9].map(|h| (z, h)))
        .collect();
    let shapes = [
        (6u8, 502u16, 0u8),
        (6, 443, 0),
        (6, 22, 0),
        (6, 80, 0),
        (17, 53, 0),
        (6, 53, 0),
        (1, 0, 8),
        (1, 0, 0),
    ];
    let mut out = Vec::new();
    for s in &hosts {
        for d in &hosts {
            for (proto, port, icmp) in shapes {
                for function in [3u8, 6] {
                    out.push(Pkt {
                        src: *s,
                        dst: *d,
                        proto,
                        port,
                        icmp,
                        function,
                    });
                }
            }
        }
    }
    out
}

fn transport_matches(t: &Transport, p: &Pkt) -> bool {
    match *t {
        Transport::Tcp { lo, hi } => p.proto == 6 && lo <= p.port && p.port <= hi,
        Transport::Udp { lo, hi } => p.proto == 17 && lo <= p.port && p.port <= hi,
        Transport::Icmp { icmp_type, .. } => p.proto == 1 && icmp_type.is_none_or(|t| t == p.icmp),
        _ => false,
    }
}

fn service_of(policy: &Policy, name: &str) -> ServiceId {
    ServiceId(
        policy
            .services
            .iter()
            .rposition(|s| s.name == name)
            .unwrap() as u32,
    )
}

/// What the brute-force evaluator knows about one ordered zone pair: (unfiltered, inspected).
fn enforcement(policy: &Policy, topo: &Topology, a: usize, b: usize) -> Option<(bool, bool)> {
    let id = |z: usize| {
        ZoneId(
            policy
                .zones
                .iter()
                .position(|x| x.name == format!("z{z}"))
                .unwrap() as u32,
        )
    };
    let paths = topo.paths(id(a), id(b), 10_000, 16);
    if paths.is_empty() {
        return None;
    }
    let unfiltered = paths.iter().any(|p| p.devices().next().is_none());
    let inspected = paths.iter().all(|p| {
        p.devices()
            .any(|(d, _, _)| policy.device(d).unwrap().kind == DeviceKind::Gateway)
    });
    Some((unfiltered, inspected))
}

fn admitted(
    spec: &SiteSpec,
    policy: &Policy,
    topo: &Topology,
    p: &Pkt,
    with_workorder: bool,
) -> bool {
    let (a, b) = (p.src.0, p.dst.0);
    if a == b {
        return true;
    }
    let Some((unfiltered, inspected)) = enforcement(policy, topo, a, b) else {
        return false;
    };
    if unfiltered {
        return true;
    }
    spec.rules.iter().any(|r| {
        let ends = r.from == a
            && r.to == b
            && (r.src_any || (p.src.1 == r.src_host))
            && (r.dst_any || (p.dst.1 == r.dst_host));
        // A work order opens its rules only for packets with one end in its scope (zone z1).
        let open = !r.workorder || (with_workorder && (a == 1 || b == 1));
        let svc = &policy.services[service_of(policy, SERVICES[r.service]).0 as usize];
        let leaf = svc.transports.iter().any(|t| transport_matches(t, p));
        let fields = match (&r.functions, SERVICES[r.service], inspected) {
            (Some(f), "modbus", true) => f.contains(&p.function),
            _ => true,
        };
        ends && open && leaf && fields
    })
}

fn svc_matches(policy: &Policy, name: &str, p: &Pkt) -> bool {
    policy.services[service_of(policy, name).0 as usize]
        .transports
        .iter()
        .any(|t| transport_matches(t, p))
}

fn check_site(spec: &SiteSpec) -> Result<(), TestCaseError> {
    let site = from_text(&text(spec));
    let errors: Vec<_> = site.front.iter().filter(|d| d.is_error()).collect();
    prop_assume!(errors.is_empty());
    let policy = &site.policy;
    let topo = Topology::new(policy);
    let net = Network::new(policy);
    let ctx = Ctx::new(&net, &Options::default(), "");
    let pkts = domain(spec.zones);
    let zone = |z: usize| {
        ZoneId(
            policy
                .zones
                .iter()
                .position(|x| x.name == format!("z{z}"))
                .unwrap() as u32,
        )
    };
    let mut scenarios = vec![(Scenario::base(), false)];
    if let Some(w) = policy.workorders.first() {
        let _ = w;
        scenarios.push((
            Scenario::work_order(policy, palisade_compiler::ir::WorkOrderId(0)),
            true,
        ));
    }
    for (s, wo) in &scenarios {
        let mut direct: BTreeSet<(usize, usize)> = BTreeSet::new();
        for a in 0..spec.zones {
            for b in 0..spec.zones {
                if a == b {
                    continue;
                }
                let in_pair: Vec<&Pkt> = pkts
                    .iter()
                    .filter(|p| {
                        p.src.0 == a && p.dst.0 == b && admitted(spec, policy, &topo, p, *wo)
                    })
                    .collect();
                if !in_pair.is_empty() {
                    direct.insert((a, b));
                }
                for svc in [
                    None,
                    Some("modbus"),
                    Some("https"),
                    Some("dns"),
                    Some("ping"),
                ] {
                    let brute = in_pair
                        .iter()
                        .any(|p| svc.is_none_or(|n| svc_matches(policy, n, p)));
                    let found = assertions::reachable(
                        &ctx,
                        Place::Zone(zone(a)),
                        Place::Zone(zone(b)),
                        svc.map(|n| service_of(policy, n)),
                        s,
                    );
                    prop_assert!(
                        found.verdict != Verdict::Unknown,
                        "unknown: {:?}",
                        found.notes
                    );
                    prop_assert_eq!(
                        found.verdict == Verdict::Proved,
                        brute,
                        "z{} -> z{} {:?} in {}: {}\n{}",
                        a,
                        b,
                        svc,
                        s.name,
                        found.checked,
                        text(spec)
                    );
                }
            }
        }
        // Transitive: a plain BFS over the brute-force direct edges.
        for a in 0..spec.zones {
            let mut seen = BTreeSet::from([a]);
            let mut queue = vec![a];
            while let Some(x) = queue.pop() {
                for (_, y) in direct.iter().filter(|(f, _)| *f == x) {
                    if seen.insert(*y) {
                        queue.push(*y);
                    }
                }
            }
            for b in (0..spec.zones).filter(|b| *b != a) {
                let found =
                    assertions::no_path(&ctx, Place::Zone(zone(a)), Place::Zone(zone(b)), s);
                prop_assert_eq!(
                    found.verdict == Verdict::Refuted,
                    seen.contains(&b),
                    "no_path z{} -> z{} in {}\n{}",
                    a,
                    b,
                    s.name,
                    text(spec)
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn verifier_agrees_with_brute_force(spec in site_spec()) {
        check_site(&spec)?;
    }
}
