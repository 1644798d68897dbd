//! The header space: what a packet is to the verifier, and what a rule admits.
//!
//! A packet is a tuple of fields: address family, source and destination address (v4 in
//! the low 32 bits), IP protocol, ports, ICMP type and code, and the protocol fields a
//! gateway can inspect (Modbus function code, unit id and register address; DNP3 function
//! code; CIP service). Fields a protocol does not have are "don't care": a rule leaves
//! them unconstrained.
//!
//! The same meaning is written three times, on purpose, so that each checks the others:
//! - [`HeaderBox`] lists: the exact interval engine (bulk work, the matrix);
//! - [`SymbolicPacket`] and [`rule_formula`]: Z3 constraints (witnesses, cross-checks);
//! - [`Packet`] and [`rule_admits`]: evaluation of one concrete packet (validating witnesses).
//!
//! Translation validation can reuse all three: a target's rule read back from a device can be
//! turned into a formula over the same [`SymbolicPacket`] and compared with [`rule_formula`].

use palisade_compiler::address::{fmt_addr, AddrRange};
use palisade_compiler::ir::{FieldConstraints, Policy, ProtocolFamily, Rule, ServiceId, Transport};
use serde::Serialize;
use z3::ast::{Bool, BV};

/// Whether protocol-field constraints count: only where a gateway inspects every path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldMode {
    /// Ports, protocols and addresses only (what every firewall enforces).
    PortLevel,
    /// Port level plus the rule's protocol fields (an inline gateway inspects them).
    Inspected,
}

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// One concrete packet (a new connection's first packet, in the initiator's direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Packet {
    pub v6: bool,
    /// Written as address text in JSON (`"10.40.0.21"`, `"fd00::1"`): a JSON number cannot
    /// hold an IPv6 address exactly.
    pub src: u128,
    pub dst: u128,
    pub proto: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub icmp_type: u8,
    pub icmp_code: u8,
    pub modbus_function: u8,
    pub modbus_unit: u8,
    pub modbus_register: u16,
    pub dnp3_function: u8,
    pub cip_service: u8,
}

impl Serialize for Packet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let text = |a: u128| palisade_compiler::address::fmt_addr(self.v6, a);
        let mut st = s.serialize_struct("Packet", 13)?;
        st.serialize_field("v6", &self.v6)?;
        st.serialize_field("src", &text(self.src))?;
        st.serialize_field("dst", &text(self.dst))?;
        st.serialize_field("proto", &self.proto)?;
        st.serialize_field("src_port", &self.src_port)?;
        st.serialize_field("dst_port", &self.dst_port)?;
        st.serialize_field("icmp_type", &self.icmp_type)?;
        st.serialize_field("icmp_code", &self.icmp_code)?;
        st.serialize_field("modbus_function", &self.modbus_function)?;
        st.serialize_field("modbus_unit", &self.modbus_unit)?;
        st.serialize_field("modbus_register", &self.modbus_register)?;
        st.serialize_field("dnp3_function", &self.dnp3_function)?;
        st.serialize_field("cip_service", &self.cip_service)?;
        st.end()
    }
}

impl Packet {
    pub fn protocol_name(&self) -> String {
        match self.proto {
            PROTO_TCP => "tcp".into(),
            PROTO_UDP => "udp".into(),
            PROTO_ICMP => "icmp".into(),
            PROTO_ICMPV6 => "icmpv6".into(),
            n => format!("ip protocol {n}"),
        }
    }

    /// `10.10.40.1 -> 10.40.0.40 tcp 49152 -> 3389`, with the protocol fields of `family`
    /// when they were enforced.
    pub fn describe(&self, family: Option<ProtocolFamily>) -> String {
        let mut s = format!(
            "{} -> {} {}",
            fmt_addr(self.v6, self.src),
            fmt_addr(self.v6, self.dst),
            self.protocol_name()
        );
        match self.proto {
            PROTO_TCP | PROTO_UDP => {
                s.push_str(&format!(" port {} -> {}", self.src_port, self.dst_port))
            }
            PROTO_ICMP | PROTO_ICMPV6 => {
                s.push_str(&format!(" type {} code {}", self.icmp_type, self.icmp_code))
            }
            _ => {}
        }
        match family {
            Some(ProtocolFamily::Modbus) => s.push_str(&format!(
                ", modbus function {} unit {} register {}",
                self.modbus_function, self.modbus_unit, self.modbus_register
            )),
            Some(ProtocolFamily::Dnp3) => {
                s.push_str(&format!(", dnp3 function {}", self.dnp3_function))
            }
            Some(ProtocolFamily::Cip) => s.push_str(&format!(", cip service {}", self.cip_service)),
            None => {}
        }
        s
    }
}

/// An inclusive interval over one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Interval {
    pub lo: u128,
    pub hi: u128,
}

impl Interval {
    pub const fn new(lo: u128, hi: u128) -> Interval {
        Interval { lo, hi }
    }
    pub const fn point(v: u128) -> Interval {
        Interval { lo: v, hi: v }
    }
    pub fn is_empty(&self) -> bool {
        self.lo > self.hi
    }
    pub fn intersect(&self, o: &Interval) -> Interval {
        Interval {
            lo: self.lo.max(o.lo),
            hi: self.hi.min(o.hi),
        }
    }
    pub fn contains(&self, o: &Interval) -> bool {
        o.is_empty() || (self.lo <= o.lo && o.hi <= self.hi)
    }
    pub fn has(&self, v: u128) -> bool {
        self.lo <= v && v <= self.hi
    }
}

/// Number of fields of a packet.
pub const DIMS: usize = 13;
/// Name and bit width of every field, in [`HeaderBox::dims`] order.
pub const FIELDS: [(&str, u32); DIMS] = [
    ("family", 1),
    ("src", 128),
    ("dst", 128),
    ("proto", 8),
    ("src_port", 16),
    ("dst_port", 16),
    ("icmp_type", 8),
    ("icmp_code", 8),
    ("modbus_function", 8),
    ("modbus_unit", 8),
    ("modbus_register", 16),
    ("dnp3_function", 8),
    ("cip_service", 7),
];

const fn full(bits: u32) -> Interval {
    if bits >= 128 {
        Interval::new(0, u128::MAX)
    } else {
        Interval::new(0, (1u128 << bits) - 1)
    }
}

/// A product of intervals, one per field: a set of packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeaderBox {
    pub dims: [Interval; DIMS],
}

impl HeaderBox {
    /// Every packet (v4 addresses limited to 32 bits by [`HeaderBox::family`]).
    pub fn all() -> HeaderBox {
        let mut dims = [Interval::new(0, 0); DIMS];
        for (d, (_, bits)) in dims.iter_mut().zip(FIELDS.iter()) {
            *d = full(*bits);
        }
        HeaderBox { dims }
    }

    /// This box with field `dim` (see [`FIELDS`]) narrowed to `i`.
    pub fn with(mut self, dim: usize, i: Interval) -> HeaderBox {
        if let Some(d) = self.dims.get_mut(dim) {
            *d = d.intersect(&i);
        }
        self
    }

    pub fn dim(&self, dim: usize) -> Interval {
        self.dims.get(dim).copied().unwrap_or(Interval::new(1, 0))
    }

    /// Packets of one family whose source and destination lie in these ranges.
    pub fn addresses(src: &AddrRange, dst: &AddrRange) -> Option<HeaderBox> {
        if src.v6 != dst.v6 {
            return None;
        }
        Some(
            HeaderBox::all()
                .with(0, Interval::point(src.v6 as u128))
                .with(1, Interval::new(src.lo, src.hi))
                .with(2, Interval::new(dst.lo, dst.hi)),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.dims.iter().any(|d| d.is_empty())
    }

    pub fn intersect(&self, o: &HeaderBox) -> HeaderBox {
        let mut dims = self.dims;
        for (d, od) in dims.iter_mut().zip(o.dims.iter()) {
            *d = d.intersect(od);
        }
        HeaderBox { dims }
    }

    pub fn contains(&self, o: &HeaderBox) -> bool {
        o.is_empty()
            || self
                .dims
                .iter()
                .zip(o.dims.iter())
                .all(|(a, b)| a.contains(b))
    }

    /// `self` minus `o` as disjoint boxes.
    pub fn subtract(&self, o: &HeaderBox) -> Vec<HeaderBox> {
        let inter = self.intersect(o);
        if inter.is_empty() {
            return vec![*self];
        }
        let mut out = Vec::new();
        let mut rest = *self;
        for d in 0..DIMS {
            let (r, i) = (rest.dim(d), inter.dim(d));
            if r.lo < i.lo {
                out.push(rest.with(d, Interval::new(r.lo, i.lo - 1)));
            }
            if i.hi < r.hi {
                out.push(rest.with(d, Interval::new(i.hi + 1, r.hi)));
            }
            rest = rest.with(d, i);
        }
        out
    }

    /// The lowest packet in the box (ports and addresses at their lower ends, but a source
    /// port in the ephemeral range when the box allows it, so that witnesses look real).
    pub fn sample(&self) -> Packet {
        let lo = |d: usize| self.dim(d).lo;
        let src_port = {
            let i = self.dim(4);
            if i.has(49152) {
                49152
            } else {
                i.lo as u16
            }
        };
        Packet {
            v6: lo(0) == 1,
            src: lo(1),
            dst: lo(2),
            proto: lo(3) as u8,
            src_port,
            dst_port: lo(5) as u16,
            icmp_type: lo(6) as u8,
            icmp_code: lo(7) as u8,
            modbus_function: lo(8) as u8,
            modbus_unit: lo(9) as u8,
            modbus_register: lo(10) as u16,
            dnp3_function: lo(11) as u8,
            cip_service: lo(12) as u8,
        }
    }

    pub fn has(&self, p: &Packet) -> bool {
        let values = packet_values(p);
        self.dims.iter().zip(values.iter()).all(|(d, v)| d.has(*v))
    }
}

fn packet_values(p: &Packet) -> [u128; DIMS] {
    [
        p.v6 as u128,
        p.src,
        p.dst,
        p.proto as u128,
        p.src_port as u128,
        p.dst_port as u128,
        p.icmp_type as u128,
        p.icmp_code as u128,
        p.modbus_function as u128,
        p.modbus_unit as u128,
        p.modbus_register as u128,
        p.dnp3_function as u128,
        p.cip_service as u128,
    ]
}

/// Whether `boxes` cover `target` entirely; otherwise a packet of `target` they miss.
pub fn uncovered(target: &HeaderBox, boxes: &[HeaderBox]) -> Option<Packet> {
    let mut rest = vec![*target];
    for b in boxes {
        if rest.is_empty() {
            break;
        }
        rest = rest.iter().flat_map(|r| r.subtract(b)).collect();
    }
    rest.first().map(|r| r.sample())
}

/// The part of a transport's packets: (family, proto, dst ports, icmp type, icmp code).
fn transport_box(t: &Transport) -> Option<HeaderBox> {
    let b = HeaderBox::all();
    let opt =
        |v: Option<u8>, bits: u32| v.map(|v| Interval::point(v as u128)).unwrap_or(full(bits));
    Some(match *t {
        Transport::Tcp { lo, hi } => b
            .with(3, Interval::point(PROTO_TCP as u128))
            .with(5, Interval::new(lo as u128, hi as u128)),
        Transport::Udp { lo, hi } => b
            .with(3, Interval::point(PROTO_UDP as u128))
            .with(5, Interval::new(lo as u128, hi as u128)),
        Transport::Icmp { icmp_type, code } => b
            .with(0, Interval::point(0))
            .with(3, Interval::point(PROTO_ICMP as u128))
            .with(6, opt(icmp_type, 8))
            .with(7, opt(code, 8)),
        Transport::Icmpv6 { icmp_type, code } => b
            .with(0, Interval::point(1))
            .with(3, Interval::point(PROTO_ICMPV6 as u128))
            .with(6, opt(icmp_type, 8))
            .with(7, opt(code, 8)),
        Transport::Ip { number } => b.with(3, Interval::point(number as u128)),
        Transport::Ethertype { .. } => return None,
    })
}

/// Merge sorted codes into intervals.
fn code_intervals(codes: impl Iterator<Item = u128>) -> Vec<Interval> {
    let mut v: Vec<u128> = codes.collect();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<Interval> = Vec::new();
    for c in v {
        match out.last_mut() {
            Some(last) if last.hi + 1 == c => last.hi = c,
            _ => out.push(Interval::point(c)),
        }
    }
    out
}

/// The field boxes of a rule's protocol constraints (one per combination of ranges).
fn field_boxes(f: &FieldConstraints) -> Vec<HeaderBox> {
    let all = vec![HeaderBox::all()];
    let restrict = |boxes: Vec<HeaderBox>, dim: usize, ivs: &[Interval]| -> Vec<HeaderBox> {
        if ivs.is_empty() {
            return boxes;
        }
        boxes
            .iter()
            .flat_map(|b| ivs.iter().map(move |i| b.with(dim, *i)))
            .collect()
    };
    let functions = code_intervals(f.enforced_functions().iter().map(|c| c.code as u128));
    let units: Vec<Interval> = f
        .units
        .iter()
        .map(|(a, b)| Interval::new(*a as u128, *b as u128))
        .collect();
    let registers: Vec<Interval> = f
        .registers
        .iter()
        .map(|(a, b)| Interval::new(*a as u128, *b as u128))
        .collect();
    match f.family {
        ProtocolFamily::Modbus => {
            let b = restrict(all, 8, &functions);
            let b = restrict(b, 9, &units);
            restrict(b, 10, &registers)
        }
        ProtocolFamily::Dnp3 => restrict(all, 11, &functions),
        ProtocolFamily::Cip => restrict(all, 12, &functions),
    }
}

/// Whether the rule's field constraints apply to packets of this service.
fn fields_apply<'r>(
    policy: &Policy,
    rule: &'r Rule,
    service: ServiceId,
    mode: FieldMode,
) -> Option<&'r FieldConstraints> {
    let f = rule.fields.as_ref()?;
    let s = policy.service(service)?;
    (mode == FieldMode::Inspected && s.inspect == Some(f.family)).then_some(f)
}

/// The services × transports part of a rule (no addresses).
pub fn service_boxes(
    policy: &Policy,
    rule: Option<&Rule>,
    services: &[ServiceId],
    mode: FieldMode,
) -> Vec<HeaderBox> {
    let mut out = Vec::new();
    for sid in policy.leaf_services(services) {
        let Some(s) = policy.service(sid) else {
            continue;
        };
        for t in &s.transports {
            let Some(tb) = transport_box(t) else { continue };
            match rule.and_then(|r| fields_apply(policy, r, sid, mode)) {
                Some(f) => out.extend(field_boxes(f).iter().map(|fb| tb.intersect(fb))),
                None => out.push(tb),
            }
        }
    }
    out.retain(|b| !b.is_empty());
    out
}

/// Everything one rule admits, as boxes. `scope`: for a work-order rule, the addresses of
/// the order's scope; the rule then admits only packets with one end in the scope.
pub fn rule_boxes(
    policy: &Policy,
    rule: &Rule,
    mode: FieldMode,
    scope: Option<&[AddrRange]>,
) -> Vec<HeaderBox> {
    let services = service_boxes(policy, Some(rule), &rule.services, mode);
    let mut out = Vec::new();
    for s in &rule.src.addrs {
        for d in &rule.dst.addrs {
            let Some(ab) = HeaderBox::addresses(s, d) else {
                continue;
            };
            for sb in &services {
                let b = ab.intersect(sb);
                if b.is_empty() {
                    continue;
                }
                match scope {
                    None => out.push(b),
                    Some(scope) => {
                        for r in scope {
                            let fam = Interval::point(r.v6 as u128);
                            let iv = Interval::new(r.lo, r.hi);
                            out.push(b.with(0, fam).with(1, iv));
                            out.push(b.with(0, fam).with(2, iv));
                        }
                    }
                }
            }
        }
    }
    out.retain(|b| !b.is_empty());
    out
}

fn in_ranges(v6: bool, a: u128, ranges: &[AddrRange]) -> bool {
    ranges.iter().any(|r| r.v6 == v6 && r.lo <= a && a <= r.hi)
}

/// Whether a concrete packet matches a transport.
pub fn transport_admits(t: &Transport, p: &Packet) -> bool {
    match *t {
        Transport::Tcp { lo, hi } => p.proto == PROTO_TCP && lo <= p.dst_port && p.dst_port <= hi,
        Transport::Udp { lo, hi } => p.proto == PROTO_UDP && lo <= p.dst_port && p.dst_port <= hi,
        Transport::Icmp { icmp_type, code } => {
            !p.v6
                && p.proto == PROTO_ICMP
                && icmp_type.is_none_or(|t| t == p.icmp_type)
                && code.is_none_or(|c| c == p.icmp_code)
        }
        Transport::Icmpv6 { icmp_type, code } => {
            p.v6 && p.proto == PROTO_ICMPV6
                && icmp_type.is_none_or(|t| t == p.icmp_type)
                && code.is_none_or(|c| c == p.icmp_code)
        }
        Transport::Ip { number } => p.proto == number,
        Transport::Ethertype { .. } => false,
    }
}

fn fields_admit(f: &FieldConstraints, p: &Packet) -> bool {
    let in_pairs = |v: u16, pairs: &[(u16, u16)]| {
        pairs.is_empty() || pairs.iter().any(|(a, b)| *a <= v && v <= *b)
    };
    let fns = f.enforced_functions();
    let fn_ok = |v: u8| fns.is_empty() || fns.iter().any(|c| c.code == v);
    match f.family {
        ProtocolFamily::Modbus => {
            fn_ok(p.modbus_function)
                && in_pairs(p.modbus_unit as u16, &f.units)
                && in_pairs(p.modbus_register, &f.registers)
        }
        ProtocolFamily::Dnp3 => fn_ok(p.dnp3_function),
        ProtocolFamily::Cip => fn_ok(p.cip_service),
    }
}

/// Whether one concrete packet is admitted by a rule: the evaluator witnesses are checked with.
pub fn rule_admits(
    policy: &Policy,
    rule: &Rule,
    p: &Packet,
    mode: FieldMode,
    scope: Option<&[AddrRange]>,
) -> bool {
    if !in_ranges(p.v6, p.src, &rule.src.addrs) || !in_ranges(p.v6, p.dst, &rule.dst.addrs) {
        return false;
    }
    if let Some(scope) = scope {
        if !in_ranges(p.v6, p.src, scope) && !in_ranges(p.v6, p.dst, scope) {
            return false;
        }
    }
    service_admits(policy, rule, &rule.services, p, mode)
}

/// Whether a packet is of one of `services` (with `rule`'s fields where `mode` enforces them).
pub fn service_admits(
    policy: &Policy,
    rule: &Rule,
    services: &[ServiceId],
    p: &Packet,
    mode: FieldMode,
) -> bool {
    policy.leaf_services(services).into_iter().any(|sid| {
        let Some(s) = policy.service(sid) else {
            return false;
        };
        s.transports.iter().any(|t| transport_admits(t, p))
            && fields_apply(policy, rule, sid, mode).is_none_or(|f| fields_admit(f, p))
    })
}

/// The packet as Z3 bit-vectors. Every query creates its own (the context is thread-local).
pub struct SymbolicPacket {
    pub family: BV,
    pub src: BV,
    pub dst: BV,
    pub proto: BV,
    pub src_port: BV,
    pub dst_port: BV,
    pub icmp_type: BV,
    pub icmp_code: BV,
    pub modbus_function: BV,
    pub modbus_unit: BV,
    pub modbus_register: BV,
    pub dnp3_function: BV,
    pub cip_service: BV,
}

/// A bit-vector constant of any width up to 128.
pub fn bv_const(value: u128, bits: u32) -> BV {
    if bits <= 64 {
        BV::from_u64(value as u64, bits)
    } else {
        BV::from_str(bits, &value.to_string()).unwrap_or_else(|| BV::from_u64(0, bits))
    }
}

fn in_interval(x: &BV, lo: u128, hi: u128, bits: u32) -> Bool {
    let max = full(bits).hi;
    match (lo == 0, hi >= max) {
        (true, true) => Bool::from_bool(true),
        _ if lo == hi => x.eq(bv_const(lo, bits)),
        (true, false) => x.bvule(bv_const(hi, bits)),
        (false, true) => bv_const(lo, bits).bvule(x),
        (false, false) => Bool::and(&[bv_const(lo, bits).bvule(x), x.bvule(bv_const(hi, bits))]),
    }
}

impl SymbolicPacket {
    pub fn new(prefix: &str) -> SymbolicPacket {
        let v = |name: &str, bits: u32| BV::new_const(format!("{prefix}{name}"), bits);
        SymbolicPacket {
            family: v("family", 1),
            src: v("src", 128),
            dst: v("dst", 128),
            proto: v("proto", 8),
            src_port: v("src_port", 16),
            dst_port: v("dst_port", 16),
            icmp_type: v("icmp_type", 8),
            icmp_code: v("icmp_code", 8),
            modbus_function: v("modbus_function", 8),
            modbus_unit: v("modbus_unit", 8),
            modbus_register: v("modbus_register", 16),
            dnp3_function: v("dnp3_function", 8),
            cip_service: v("cip_service", 7),
        }
    }

    /// A real packet: v4 addresses fit in 32 bits.
    pub fn well_formed(&self) -> Bool {
        let v4 = self.family.eq(BV::from_u64(0, 1));
        let small = Bool::and(&[
            in_interval(&self.src, 0, u32::MAX as u128, 128),
            in_interval(&self.dst, 0, u32::MAX as u128, 128),
        ]);
        v4.implies(&small)
    }

    fn in_ranges(&self, addr: &BV, ranges: &[AddrRange]) -> Bool {
        let parts: Vec<Bool> = ranges
            .iter()
            .map(|r| {
                Bool::and(&[
                    self.family.eq(BV::from_u64(r.v6 as u64, 1)),
                    in_interval(addr, r.lo, r.hi, 128),
                ])
            })
            .collect();
        Bool::or(&parts)
    }

    pub fn src_in(&self, ranges: &[AddrRange]) -> Bool {
        self.in_ranges(&self.src, ranges)
    }

    pub fn dst_in(&self, ranges: &[AddrRange]) -> Bool {
        self.in_ranges(&self.dst, ranges)
    }

    fn transport(&self, t: &Transport) -> Bool {
        let proto = |n: u8| self.proto.eq(BV::from_u64(n as u64, 8));
        let fam = |v6: bool| self.family.eq(BV::from_u64(v6 as u64, 1));
        let opt = |x: &BV, v: Option<u8>| {
            v.map(|v| x.eq(BV::from_u64(v as u64, 8)))
                .unwrap_or(Bool::from_bool(true))
        };
        match *t {
            Transport::Tcp { lo, hi } => Bool::and(&[
                proto(PROTO_TCP),
                in_interval(&self.dst_port, lo as u128, hi as u128, 16),
            ]),
            Transport::Udp { lo, hi } => Bool::and(&[
                proto(PROTO_UDP),
                in_interval(&self.dst_port, lo as u128, hi as u128, 16),
            ]),
            Transport::Icmp { icmp_type, code } => Bool::and(&[
                fam(false),
                proto(PROTO_ICMP),
                opt(&self.icmp_type, icmp_type),
                opt(&self.icmp_code, code),
            ]),
            Transport::Icmpv6 { icmp_type, code } => Bool::and(&[
                fam(true),
                proto(PROTO_ICMPV6),
                opt(&self.icmp_type, icmp_type),
                opt(&self.icmp_code, code),
            ]),
            Transport::Ip { number } => proto(number),
            Transport::Ethertype { .. } => Bool::from_bool(false),
        }
    }

    fn fields(&self, f: &FieldConstraints) -> Bool {
        let codes = |x: &BV, bits: u32| -> Bool {
            if f.enforced_functions().is_empty() {
                return Bool::from_bool(true);
            }
            let parts: Vec<Bool> = f
                .enforced_functions()
                .iter()
                .map(|c| x.eq(BV::from_u64(c.code as u64, bits)))
                .collect();
            Bool::or(&parts)
        };
        let pairs = |x: &BV, ps: &[(u16, u16)], bits: u32| -> Bool {
            if ps.is_empty() {
                return Bool::from_bool(true);
            }
            let parts: Vec<Bool> = ps
                .iter()
                .map(|(a, b)| in_interval(x, *a as u128, *b as u128, bits))
                .collect();
            Bool::or(&parts)
        };
        match f.family {
            ProtocolFamily::Modbus => Bool::and(&[
                codes(&self.modbus_function, 8),
                pairs(&self.modbus_unit, &f.units, 8),
                pairs(&self.modbus_register, &f.registers, 16),
            ]),
            ProtocolFamily::Dnp3 => codes(&self.dnp3_function, 8),
            ProtocolFamily::Cip => codes(&self.cip_service, 7),
        }
    }

    /// The packet is of one of `services`, with `rule`'s fields where `mode` enforces them.
    pub fn service(
        &self,
        policy: &Policy,
        rule: Option<&Rule>,
        services: &[ServiceId],
        mode: FieldMode,
    ) -> Bool {
        let mut parts = Vec::new();
        for sid in policy.leaf_services(services) {
            let Some(s) = policy.service(sid) else {
                continue;
            };
            let ts: Vec<Bool> = s.transports.iter().map(|t| self.transport(t)).collect();
            let t = Bool::or(&ts);
            match rule.and_then(|r| fields_apply(policy, r, sid, mode)) {
                Some(f) => parts.push(Bool::and(&[t, self.fields(f)])),
                None => parts.push(t),
            }
        }
        Bool::or(&parts)
    }

    /// Read a packet back from a model.
    pub fn from_model(&self, model: &z3::Model) -> Option<Packet> {
        let get = |x: &BV| -> Option<u128> {
            let bits = x.get_size();
            if bits <= 64 {
                return model
                    .eval(x, true)
                    .and_then(|v| v.as_u64())
                    .map(|v| v as u128);
            }
            let hi = model
                .eval(&x.extract(bits - 1, 64), true)
                .and_then(|v| v.as_u64())?;
            let lo = model
                .eval(&x.extract(63, 0), true)
                .and_then(|v| v.as_u64())?;
            Some(((hi as u128) << 64) | lo as u128)
        };
        Some(Packet {
            v6: get(&self.family)? == 1,
            src: get(&self.src)?,
            dst: get(&self.dst)?,
            proto: get(&self.proto)? as u8,
            src_port: get(&self.src_port)? as u16,
            dst_port: get(&self.dst_port)? as u16,
            icmp_type: get(&self.icmp_type)? as u8,
            icmp_code: get(&self.icmp_code)? as u8,
            modbus_function: get(&self.modbus_function)? as u8,
            modbus_unit: get(&self.modbus_unit)? as u8,
            modbus_register: get(&self.modbus_register)? as u16,
            dnp3_function: get(&self.dnp3_function)? as u8,
            cip_service: get(&self.cip_service)? as u8,
        })
    }

    /// This packet equals a concrete one.
    pub fn equals(&self, p: &Packet) -> Bool {
        Bool::and(&[
            self.family.eq(BV::from_u64(p.v6 as u64, 1)),
            self.src.eq(bv_const(p.src, 128)),
            self.dst.eq(bv_const(p.dst, 128)),
            self.proto.eq(BV::from_u64(p.proto as u64, 8)),
            self.src_port.eq(BV::from_u64(p.src_port as u64, 16)),
            self.dst_port.eq(BV::from_u64(p.dst_port as u64, 16)),
            self.icmp_type.eq(BV::from_u64(p.icmp_type as u64, 8)),
            self.icmp_code.eq(BV::from_u64(p.icmp_code as u64, 8)),
            self.modbus_function
                .eq(BV::from_u64(p.modbus_function as u64, 8)),
            self.modbus_unit.eq(BV::from_u64(p.modbus_unit as u64, 8)),
            self.modbus_register
                .eq(BV::from_u64(p.modbus_register as u64, 16)),
            self.dnp3_function
                .eq(BV::from_u64(p.dnp3_function as u64, 8)),
            self.cip_service.eq(BV::from_u64(p.cip_service as u64, 7)),
        ])
    }

    /// Prefer an ephemeral source port in witnesses, so that they read like real traffic.
    pub fn ephemeral_source(&self) -> Bool {
        BV::from_u64(49152, 16).bvule(&self.src_port)
    }
}

/// Everything one rule admits, as a Z3 constraint built straight from the IR (not from
/// [`rule_boxes`], so that the two engines check each other).
pub fn rule_formula(
    policy: &Policy,
    rule: &Rule,
    p: &SymbolicPacket,
    mode: FieldMode,
    scope: Option<&[AddrRange]>,
) -> Bool {
    let mut parts = vec![
        p.src_in(&rule.src.addrs),
        p.dst_in(&rule.dst.addrs),
        p.service(policy, Some(rule), &rule.services, mode),
    ];
    if let Some(scope) = scope {
        parts.push(Bool::or(&[p.src_in(scope), p.dst_in(scope)]));
    }
    Bool::and(&parts)
}

/// The first leaf service of a rule that a packet belongs to, for messages.
pub fn matched_service(policy: &Policy, rule: &Rule, p: &Packet) -> Option<ServiceId> {
    policy
        .leaf_services(&rule.services)
        .into_iter()
        .find(|sid| {
            policy
                .service(*sid)
                .is_some_and(|s| s.transports.iter().any(|t| transport_admits(t, p)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtract_is_exact() {
        let a = HeaderBox::all()
            .with(3, Interval::point(6))
            .with(5, Interval::new(0, 100));
        let b = HeaderBox::all()
            .with(3, Interval::point(6))
            .with(5, Interval::new(50, 60));
        let rest = a.subtract(&b);
        assert_eq!(rest.len(), 2);
        assert!(uncovered(&a, &[b]).is_some());
        assert!(uncovered(&b, &[a]).is_none());
        let mut all = rest.clone();
        all.push(b);
        assert!(uncovered(&a, &all).is_none());
    }

    #[test]
    fn code_intervals_merge() {
        let v = code_intervals([3u128, 1, 2, 7].into_iter());
        assert_eq!(v, vec![Interval::new(1, 3), Interval::point(7)]);
    }
}
