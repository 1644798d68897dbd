//! The checks a `profile` may require, with their parameters. The verifier implements them;
//! the front end only validates that a profile names real checks with well-typed parameters.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A security level 0-4.
    Level,
    /// A duration (`4h`) in seconds.
    Duration,
    /// A list of names (e.g. roles).
    Names,
}

pub struct KnownCheck {
    pub name: &'static str,
    pub params: &'static [(&'static str, ParamKind)],
    pub summary: &'static str,
}

pub const KNOWN_CHECKS: &[KnownCheck] = &[
    KnownCheck {
        name: "external_via_jump_host",
        params: &[("min_level", ParamKind::Level)],
        summary: "no path from `external` into a zone with SL-T >= min_level except through a declared jump host",
    },
    KnownCheck {
        name: "firewall_on_conduits",
        params: &[("min_level", ParamKind::Level)],
        summary: "every conduit into a zone with SL-T >= min_level crosses a firewall on every path",
    },
    KnownCheck {
        name: "inspected_writes",
        params: &[("min_level", ParamKind::Level)],
        summary: "industrial-protocol rules into SL-T >= min_level that could write are constrained to named functions and inspected by a gateway, or covered by a compensating control",
    },
    KnownCheck {
        name: "no_broad_rules",
        params: &[("min_level", ParamKind::Level)],
        summary: "no rule admits `external`, `any` or a whole zone into a zone with SL-T >= min_level",
    },
    KnownCheck {
        name: "two_person_approval",
        params: &[("min_level", ParamKind::Level), ("safety_roles", ParamKind::Names)],
        summary: "work orders touching SL-T >= min_level need two distinct approvers, one of them holding a safety role",
    },
    KnownCheck {
        name: "break_glass_limits",
        params: &[("max_duration", ParamKind::Duration), ("review_within", ParamKind::Duration)],
        summary: "emergency work orders have a single approver, last at most max_duration and are reviewed within review_within",
    },
    KnownCheck {
        name: "dataflow_protection",
        params: &[],
        summary: "every boundary-crossing hop of a data flow is carried by a service providing the protection the flow requires",
    },
];

pub fn known(name: &str) -> Option<&'static KnownCheck> {
    KNOWN_CHECKS.iter().find(|c| c.name == name)
}
