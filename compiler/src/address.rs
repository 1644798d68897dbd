//! Address arithmetic: networks and inclusive ranges over one address family, held as u128.

use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An inclusive range of addresses of one family. v4 values use the low 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AddrRange {
    pub v6: bool,
    pub lo: u128,
    pub hi: u128,
}

/// A network `addr/prefix`, stored with host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cidr {
    pub v6: bool,
    pub addr: u128,
    pub prefix: u8,
}

fn bits(v6: bool) -> u32 {
    if v6 {
        128
    } else {
        32
    }
}

fn family_max(v6: bool) -> u128 {
    if v6 {
        u128::MAX
    } else {
        u32::MAX as u128
    }
}

pub fn fmt_addr(v6: bool, value: u128) -> String {
    if v6 {
        Ipv6Addr::from(value).to_string()
    } else {
        Ipv4Addr::from(value as u32).to_string()
    }
}

impl Cidr {
    /// The network of `addr/prefix` and whether host bits were set in `addr`.
    pub fn new(v6: bool, addr: u128, prefix: u8) -> (Cidr, bool) {
        let host_bits = bits(v6).saturating_sub(prefix as u32);
        let mask = if host_bits >= 128 {
            0
        } else {
            family_max(v6) & !((1u128 << host_bits) - 1)
        };
        let net = addr & mask;
        (
            Cidr {
                v6,
                addr: net,
                prefix,
            },
            net != addr,
        )
    }

    pub fn range(&self) -> AddrRange {
        let host_bits = bits(self.v6).saturating_sub(self.prefix as u32);
        let span = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        AddrRange {
            v6: self.v6,
            lo: self.addr,
            hi: self.addr | span,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", fmt_addr(self.v6, self.addr), self.prefix)
    }
}

impl AddrRange {
    /// Stands in for an asset address that did not lower (an error already reported), so that
    /// the address checks do not report the stand-in as well. No literal can produce it: a v4
    /// range beyond 32 bits.
    pub const UNRESOLVED: AddrRange = AddrRange {
        v6: false,
        lo: u128::MAX,
        hi: u128::MAX,
    };

    pub fn is_unresolved(&self) -> bool {
        *self == AddrRange::UNRESOLVED
    }

    pub fn single(v6: bool, value: u128) -> AddrRange {
        AddrRange {
            v6,
            lo: value,
            hi: value,
        }
    }

    pub fn whole(v6: bool) -> AddrRange {
        AddrRange {
            v6,
            lo: 0,
            hi: family_max(v6),
        }
    }

    pub fn contains(&self, other: &AddrRange) -> bool {
        self.v6 == other.v6 && self.lo <= other.lo && other.hi <= self.hi
    }

    pub fn overlaps(&self, other: &AddrRange) -> bool {
        self.v6 == other.v6 && self.lo <= other.hi && other.lo <= self.hi
    }

    pub fn is_single(&self) -> bool {
        self.lo == self.hi
    }

    /// Number of addresses (saturating).
    pub fn size(&self) -> u128 {
        (self.hi - self.lo).saturating_add(1)
    }

    /// The smallest CIDR list covering exactly this range.
    pub fn to_cidrs(&self) -> Vec<Cidr> {
        let mut out = Vec::new();
        let width = bits(self.v6);
        let mut lo = self.lo;
        loop {
            // Largest block aligned at `lo` that stays within `hi`.
            let mut size_bits = if lo == 0 {
                width
            } else {
                lo.trailing_zeros().min(width)
            };
            while size_bits > 0 {
                let last = if size_bits >= 128 {
                    u128::MAX
                } else {
                    lo | ((1u128 << size_bits) - 1)
                };
                if last <= self.hi {
                    break;
                }
                size_bits -= 1;
            }
            out.push(Cidr {
                v6: self.v6,
                addr: lo,
                prefix: (width - size_bits) as u8,
            });
            let last = if size_bits >= 128 {
                u128::MAX
            } else {
                lo | ((1u128 << size_bits) - 1)
            };
            if last >= self.hi {
                break;
            }
            lo = last + 1;
        }
        out
    }
}

impl std::fmt::Display for AddrRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_single() {
            return write!(f, "{}", fmt_addr(self.v6, self.lo));
        }
        if let [cidr] = self.to_cidrs().as_slice() {
            return write!(f, "{cidr}");
        }
        write!(
            f,
            "{}-{}",
            fmt_addr(self.v6, self.lo),
            fmt_addr(self.v6, self.hi)
        )
    }
}

/// Sort and merge overlapping or adjacent ranges.
pub fn merge(mut ranges: Vec<AddrRange>) -> Vec<AddrRange> {
    ranges.sort();
    let mut out: Vec<AddrRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if last.v6 == r.v6 && r.lo <= last.hi.saturating_add(1) => {
                last.hi = last.hi.max(r.hi);
            }
            _ => out.push(r),
        }
    }
    out
}

/// Every address of both families not in `ranges` (which must be merged).
pub fn complement(ranges: &[AddrRange]) -> Vec<AddrRange> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let mut next: Option<u128> = Some(0);
        for r in ranges.iter().filter(|r| r.v6 == v6) {
            if let Some(n) = next {
                if r.lo > n {
                    out.push(AddrRange {
                        v6,
                        lo: n,
                        hi: r.lo - 1,
                    });
                }
            }
            next = r.hi.checked_add(1).filter(|n| *n <= family_max(v6));
        }
        if let Some(n) = next {
            out.push(AddrRange {
                v6,
                lo: n,
                hi: family_max(v6),
            });
        }
    }
    out
}

/// Ranges that belong to no zone and are never routed: loopback, link-local, multicast,
/// limited broadcast, the unspecified address.
pub fn reserved() -> Vec<(AddrRange, &'static str)> {
    let v4 = |a: [u8; 4], p: u8| {
        Cidr::new(false, u32::from(Ipv4Addr::from(a)) as u128, p)
            .0
            .range()
    };
    let v6 = |a: Ipv6Addr, p: u8| Cidr::new(true, u128::from(a), p).0.range();
    vec![
        (v4([0, 0, 0, 0], 8), "unspecified"),
        (v4([127, 0, 0, 0], 8), "loopback"),
        (v4([169, 254, 0, 0], 16), "link-local"),
        (v4([224, 0, 0, 0], 4), "multicast"),
        (v4([255, 255, 255, 255], 32), "limited broadcast"),
        (v6(Ipv6Addr::UNSPECIFIED, 128), "unspecified"),
        (v6(Ipv6Addr::LOCALHOST, 128), "loopback"),
        (
            v6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
            "link-local",
        ),
        (
            v6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
            "multicast",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> u128 {
        u32::from(s.parse::<Ipv4Addr>().unwrap_or(Ipv4Addr::UNSPECIFIED)) as u128
    }

    #[test]
    fn cidr_ranges_and_host_bits() {
        let (c, host) = Cidr::new(false, v4("10.40.0.7"), 24);
        assert!(host);
        assert_eq!(c.to_string(), "10.40.0.0/24");
        assert_eq!(c.range().size(), 256);
        let (all, _) = Cidr::new(true, 0, 0);
        assert_eq!(all.range().hi, u128::MAX);
    }

    #[test]
    fn range_to_cidrs_is_exact() {
        let r = AddrRange {
            v6: false,
            lo: v4("10.40.0.100"),
            hi: v4("10.40.0.120"),
        };
        let cidrs = r.to_cidrs();
        let total: u128 = cidrs.iter().map(|c| c.range().size()).sum();
        assert_eq!(total, 21);
        assert_eq!(merge(cidrs.iter().map(|c| c.range()).collect()), vec![r]);
        assert_eq!(AddrRange::whole(false).to_cidrs().len(), 1);
    }

    #[test]
    fn complement_covers_the_rest() {
        let r = AddrRange {
            v6: false,
            lo: v4("10.0.0.0"),
            hi: v4("10.255.255.255"),
        };
        let c = complement(&[r]);
        assert_eq!(c.len(), 3);
        let v4_total: u128 = c.iter().filter(|r| !r.v6).map(|r| r.size()).sum();
        assert_eq!(v4_total + r.size(), 1u128 << 32);
    }
}
