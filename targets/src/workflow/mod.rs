//! Work-order workflows for CMMS and workflow engines: per work order, a BPMN 2.0 process
//! (`workflows/<order>.bpmn`) and a JSON workflow definition (`workflows/<order>.json`).
//! Both render one [`model::Workflow`]; docs/workflows.md describes them for integrators.
//!
//! - [`emit`]`(&Policy, Format)`: every work order's file in that format, or the diagnostics
//!   of broken workflow invariants ([`proof`], E0955). The approval properties of the site
//!   (quorum, the profile's two-person and break-glass rules) are the verifier's proofs
//!   (`palisade verify`); the run-time approval rule is [`palisade_compiler::approvals`].
//! - [`commands`]: the `palisade workorder open|close` command lines the "open access" and
//!   "close access" service tasks carry, with the nftables timed-set elements behind them.

pub mod bpmn;
pub mod json;
pub mod layout;
pub mod model;
pub mod proof;
pub mod scripts;

use crate::gates;
use crate::placement::{place, Placement};
use crate::{Emitted, OutputFile};
use model::{Action, Arg, Commands, SetElement, Workflow};
use palisade_compiler::approvals;
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::{Policy, Target, WorkOrderId};

/// The two workflow outputs. They are per work order, not per device, so they are not
/// [`Target`]s of devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Bpmn,
    Json,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Bpmn, Format::Json];

    /// `bpmn`, or `workflow-json` (`workflow_json`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "bpmn" => Some(Format::Bpmn),
            "workflow-json" | "workflow_json" => Some(Format::Json),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Bpmn => "bpmn",
            Format::Json => "workflow-json",
        }
    }
    /// The file of a work order, relative to the output directory.
    pub fn path(self, order: &str) -> String {
        match self {
            Format::Bpmn => format!("workflows/{order}.bpmn"),
            Format::Json => format!("workflows/{order}.json"),
        }
    }
}

/// The addresses of a scope target (an asset's interfaces, a zone's networks).
fn target_ranges(policy: &Policy, name: &str) -> Vec<palisade_compiler::address::AddrRange> {
    if let Some(a) = policy.assets.iter().find(|a| a.name == name) {
        let mut v = vec![a.addr];
        v.extend(a.interfaces.iter().map(|i| i.addr));
        return v;
    }
    policy
        .zones
        .iter()
        .find(|z| z.name == name)
        .map(|z| z.networks.iter().map(|n| n.range()).collect())
        .unwrap_or_default()
}

/// The commands of work order `id`: `palisade workorder open NAME --scope TARGET… --duration D
/// --apply` and `palisade workorder close NAME --scope TARGET… --apply`, the instance's
/// targets standing for `TARGET…` (run in the site's directory: `--site` defaults to `.`).
/// For every nftables firewall that carries the order's rules, the exact statements the
/// command runs there are listed per target ([`crate::gates`]): the target's addresses added
/// to the order's timed sets with a timeout of the maximum duration, or deleted from them.
pub fn commands(policy: &Policy, placement: &Placement, id: WorkOrderId) -> Commands {
    let wo = policy.workorder(id);
    let name = wo.map(|w| w.name.clone()).unwrap_or_default();
    let max = wo.and_then(|w| w.max_duration).unwrap_or(0);
    let lit = |s: &str| Arg::Literal(s.to_string());
    let open = vec![
        lit("palisade"),
        lit("workorder"),
        lit("open"),
        Arg::Literal(name.clone()),
        lit("--scope"),
        Arg::EachTarget,
        lit("--duration"),
        Arg::Literal(approvals::duration(max)),
        lit("--apply"),
    ];
    let close = vec![
        lit("palisade"),
        lit("workorder"),
        lit("close"),
        Arg::Literal(name),
        lit("--scope"),
        Arg::EachTarget,
        lit("--apply"),
    ];
    let targets = wo.map(|w| model::targets(policy, w)).unwrap_or_default();
    let statements = |action: gates::Action| -> Vec<SetElement> {
        let mut out = Vec::new();
        for device in gates::devices_of(policy, placement, id) {
            let Some(d) = policy
                .device(device)
                .filter(|d| d.target == Some(Target::Nftables))
            else {
                continue;
            };
            for target in &targets {
                let ranges = target_ranges(policy, target);
                if let Ok(nft) = gates::commands(
                    policy,
                    placement,
                    device,
                    Target::Nftables,
                    id,
                    &ranges,
                    action,
                ) {
                    if !nft.trim().is_empty() {
                        out.push(SetElement {
                            device: d.name.clone(),
                            target: target.clone(),
                            nft: nft.trim_end().to_string(),
                        });
                    }
                }
            }
        }
        out
    };
    Commands {
        open: Action {
            name: "open",
            argv: open,
            elements: statements(gates::Action::Open { seconds: max }),
        },
        close: Action {
            name: "close",
            argv: close,
            elements: statements(gates::Action::Close),
        },
    }
}

/// The workflow of every work order, checked; or why they cannot be written.
pub fn workflows(policy: &Policy) -> Result<Vec<Workflow>, Vec<Diagnostic>> {
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut out = Vec::new();
    let placement = place(policy);
    for i in 0..policy.workorders.len() {
        let id = WorkOrderId(i as u32);
        let Some(wf) = model::build(policy, id, commands(policy, &placement, id)) else {
            continue;
        };
        errors.extend(proof::check(policy, &wf));
        out.push(wf);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Every work order's workflow in `format`.
pub fn emit(policy: &Policy, format: Format) -> Emitted {
    let mut files = Vec::new();
    for wf in workflows(policy)? {
        let Some(wo) = policy.workorder(wf.order) else {
            continue;
        };
        let contents = match format {
            Format::Bpmn => bpmn::document(policy, &wf),
            Format::Json => json::document(policy, &wf),
        };
        files.push(OutputFile {
            path: format.path(&wo.name),
            contents,
        });
    }
    Ok(files)
}
