//! `palisade workorder open|close`: open one instance of a work order on the devices that
//! carry its rules — exactly the flows of the instance's scope, for a bounded time, inside the
//! order's window — or close it. Prints the commands per device (an `nft -f -` batch, `ipset`
//! commands, IOS configuration, a Suricata rule-file script, an allowlist instance record),
//! all or nothing; with `--apply`, runs them on this machine (the device itself).
//!
//! Approvals are not checked here: this is the step a CMMS workflow runs once the instance is
//! approved (see the work-order workflows `palisade build` writes).

use crate::{load, print_diagnostics, MessageFormat};
use clap::Subcommand;
use palisade_compiler::address::AddrRange;
use palisade_compiler::db::{policy_ir, site_diagnostics};
use palisade_compiler::diagnostic::did_you_mean;
use palisade_compiler::ir::{DeviceId, Policy, ScopeItem, Target, WorkOrderId};
use palisade_targets::gates::{self, Action};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

#[derive(Subcommand)]
pub enum WorkorderCommand {
    /// Open an instance: admit its scope's flows on every device that carries the order's
    /// rules (timed set elements on firewalls, a rule file on Suricata gateways).
    Open {
        /// The work order (a `workorder` of the site).
        name: String,
        #[command(flatten)]
        common: Common,
        /// How long the instance stays open, e.g. `2h`, `90m`, `1h30m` (at most the order's
        /// max_duration, which is also the default, and never past the end of the order's
        /// current window).
        #[arg(long)]
        duration: Option<String>,
        /// Open outside the order's window (loudly; for an emergency that has no
        /// break-glass order).
        #[arg(long)]
        force: bool,
    },
    /// Close an instance: remove its scope from the sets (new and established flows stop).
    Close {
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
pub struct Common {
    /// The site (a directory of .pal files, or a file).
    #[arg(long, default_value = ".")]
    site: PathBuf,
    /// The instance's scope: assets or zones inside the work order's scope.
    #[arg(long, required = true, num_args = 1..)]
    scope: Vec<String>,
    /// Only this device (default: every firewall and gateway that carries the order's rules).
    #[arg(long)]
    device: Option<String>,
    /// Write commands for this target instead of each firewall's own (nftables, iptables,
    /// cisco-ios).
    #[arg(long)]
    target: Option<String>,
    /// Run the commands here (this machine is the device: one Linux firewall or Suricata
    /// gateway).
    #[arg(long)]
    apply: bool,
}

/// `30s`, `90m`, `4h`, `1d`, `1h30m` in seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (num.is_empty() && total > 0).then_some(total)
}

/// The addresses of the named scope items, each checked against the order's scope.
fn scope_addrs(
    policy: &Policy,
    wo: WorkOrderId,
    names: &[String],
) -> Result<Vec<AddrRange>, String> {
    let order = policy.workorder(wo).ok_or("no such work order")?;
    let mut out = Vec::new();
    for name in names {
        if let Some((i, a)) = policy
            .assets
            .iter()
            .enumerate()
            .find(|(_, a)| &a.name == name)
        {
            let allowed = order.scope.iter().any(|s| match s {
                ScopeItem::Asset(x) => x.index() == i,
                ScopeItem::Zone(z) => *z == a.zone || a.interfaces.iter().any(|x| x.zone == *z),
            });
            if !allowed {
                return Err(format!(
                    "asset `{name}` is outside the scope of work order `{}`",
                    order.name
                ));
            }
            out.push(a.addr);
            out.extend(a.interfaces.iter().map(|x| x.addr));
        } else if let Some((i, z)) = policy
            .zones
            .iter()
            .enumerate()
            .find(|(_, z)| &z.name == name)
        {
            if !order
                .scope
                .iter()
                .any(|s| matches!(s, ScopeItem::Zone(x) if x.index() == i))
            {
                return Err(format!(
                    "zone `{name}` is outside the scope of work order `{}`",
                    order.name
                ));
            }
            out.extend(z.networks.iter().map(|n| n.range()));
        } else {
            let names = policy
                .assets
                .iter()
                .map(|a| a.name.as_str())
                .chain(policy.zones.iter().map(|z| z.name.as_str()));
            let hint = did_you_mean(name, names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!("no asset or zone `{name}`{hint}"));
        }
    }
    Ok(out)
}

pub fn cmd_workorder(cmd: WorkorderCommand) -> Result<ExitCode, String> {
    let (name, common, duration, open, force) = match cmd {
        WorkorderCommand::Open {
            name,
            common,
            duration,
            force,
        } => (name, common, duration, true, force),
        WorkorderCommand::Close { name, common } => (name, common, None, false, false),
    };
    let s = load(std::slice::from_ref(&common.site))?;
    let diags = site_diagnostics(&s.db, s.site);
    if diags.iter().any(|d| d.is_error()) {
        print_diagnostics(diags, &s.sources, MessageFormat::Human)?;
        eprintln!("workorder: the site has errors; nothing done");
        return Ok(ExitCode::from(1));
    }
    let policy = policy_ir(&s.db, s.site);
    let Some(wo) = policy
        .workorders
        .iter()
        .position(|w| w.name == name)
        .map(|i| WorkOrderId(i as u32))
    else {
        let hint = did_you_mean(&name, policy.workorders.iter().map(|w| w.name.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        eprintln!("error: no work order `{name}`{hint}");
        return Ok(ExitCode::from(1));
    };
    let order = policy.workorder(wo).ok_or("no such work order")?;
    let scope = match scope_addrs(policy, wo, &common.scope) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let action = if open {
        let max = order.max_duration.unwrap_or(u64::MAX);
        let seconds = match duration.as_deref().map(parse_duration) {
            None => max,
            Some(Some(s)) => s,
            Some(None) => {
                return Err(format!(
                    "bad duration `{}` (e.g. 2h, 90m, 1h30m)",
                    duration.unwrap_or_default()
                ))
            }
        };
        if seconds > max || seconds == u64::MAX {
            eprintln!("error: an instance of `{name}` may stay open at most {max} s (max_duration); asked for {seconds} s");
            return Ok(ExitCode::from(1));
        }
        let seconds = match crate::window::remaining(policy, order, crate::window::now()?) {
            Ok(None) => seconds,
            Ok(Some(left)) if left < seconds => {
                eprintln!("note: the window of `{name}` ends in {left} s: the instance closes then, not in {seconds} s");
                left
            }
            Ok(Some(_)) => seconds,
            Err(why) if force => {
                eprintln!("warning: --force: opening `{name}` OUTSIDE its window ({why}); this is recorded in the commands");
                seconds
            }
            Err(why) => {
                eprintln!("error: {why}; nothing was opened (`--force` opens anyway, loudly)");
                return Ok(ExitCode::from(1));
            }
        };
        Action::Open { seconds }
    } else {
        Action::Close
    };
    let override_target = match common.target.as_deref() {
        None => None,
        Some(t) => Some(
            Target::from_name(&t.replace('-', "_"))
                .filter(|t| matches!(t, Target::Nftables | Target::Iptables | Target::CiscoIos))
                .ok_or(format!("unknown firewall target `{t}`"))?,
        ),
    };
    let placement = palisade_targets::model::enforced(policy);
    let devices: Vec<DeviceId> = gates::devices_of(policy, &placement, wo)
        .into_iter()
        .filter(|d| {
            common
                .device
                .as_ref()
                .is_none_or(|n| policy.device(*d).is_some_and(|x| &x.name == n))
        })
        .collect();
    if devices.is_empty() {
        eprintln!(
            "error: no device{} carries rules of work order `{name}`",
            common
                .device
                .as_ref()
                .map(|d| format!(" named `{d}`"))
                .unwrap_or_default()
        );
        return Ok(ExitCode::from(1));
    }
    if common.apply && devices.len() != 1 {
        eprintln!(
            "error: --apply runs on one firewall; name it with --device (candidates: {})",
            devices
                .iter()
                .filter_map(|d| policy.device(*d))
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    let verb = if open { "open" } else { "close" };
    let forced = if force {
        " (FORCED outside its window)"
    } else {
        ""
    };
    // Every device's commands first: a failure on one prints nothing for any.
    let mut planned = Vec::new();
    for d in devices {
        let dev = policy.device(d).ok_or("no such device")?;
        let Some(target) = override_target.or(dev.target) else {
            continue;
        };
        let cmds = gates::commands(policy, &placement, d, target, wo, &scope, action)
            .map_err(|e| format!("{}: {e}; nothing was printed or applied", dev.name))?;
        planned.push((dev, target, cmds));
    }
    let what = format!(
        "{verb} work order {name} for {}{}{forced}",
        common.scope.join(", "),
        match action {
            Action::Open { seconds } => format!(", {seconds} s"),
            Action::Close => String::new(),
        }
    );
    if common.apply {
        for (dev, target, cmds) in &planned {
            apply(*target, cmds)?;
            eprintln!("{}: {what}: done", dev.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    for (dev, target, cmds) in &planned {
        match target {
            Target::Nftables => {
                text.push_str(&format!("# {} (nftables): {what}\n", dev.name));
                text.push_str(&format!("nft -f - <<'EOF'\n{cmds}EOF\n"));
            }
            Target::Iptables => {
                text.push_str(&format!("# {} (iptables/ipset): {what}\n", dev.name));
                text.push_str(&format!("{}\n", cmds.trim_end()));
            }
            Target::Suricata => {
                text.push_str(&format!("# {} (suricata gateway): {what}\n", dev.name));
                text.push_str(cmds);
            }
            Target::AllowlistJson => {
                text.push_str(&format!(
                    "# {} (allowlist-json gateway, hand to its integration): {what}\n",
                    dev.name
                ));
                text.push_str(cmds);
            }
            Target::CiscoIos => {
                text.push_str(&format!(
                    "! {} (cisco-ios, configuration mode): {what}\n",
                    dev.name
                ));
                if let Action::Open { seconds } = action {
                    text.push_str(&format!("! IOS cannot expire group entries: run `palisade workorder close` in {seconds} s\n"));
                }
                text.push_str(&format!("{}\n", cmds.trim_end()));
            }
        }
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Run the commands on this machine.
fn apply(target: Target, cmds: &str) -> Result<(), String> {
    match target {
        Target::Nftables => {
            let mut child = Command::new("nft").args(["-f", "-"]).stdin(Stdio::piped()).spawn().map_err(|e| format!("nft: {e}"))?;
            child.stdin.take().ok_or("nft: no stdin")?.write_all(cmds.as_bytes()).map_err(|e| format!("nft: {e}"))?;
            let status = child.wait().map_err(|e| format!("nft: {e}"))?;
            if !status.success() {
                return Err(format!("nft failed ({status})"));
            }
        }
        Target::Iptables => {
            for line in cmds.lines() {
                let mut words = line.split_whitespace();
                let Some(tool) = words.next() else { continue };
                let status = Command::new(tool).args(words).status().map_err(|e| format!("{tool}: {e}"))?;
                if !status.success() {
                    return Err(format!("`{line}` failed ({status})"));
                }
            }
        }
        Target::Suricata => {
            let mut child = Command::new("sh").args(["-e"]).stdin(Stdio::piped()).spawn().map_err(|e| format!("sh: {e}"))?;
            child.stdin.take().ok_or("sh: no stdin")?.write_all(cmds.as_bytes()).map_err(|e| format!("sh: {e}"))?;
            let status = child.wait().map_err(|e| format!("sh: {e}"))?;
            if !status.success() {
                return Err(format!("the gateway commands failed ({status})"));
            }
        }
        _ => return Err("--apply works for nftables and iptables firewalls and Suricata gateways; paste the IOS lines into the device, hand the JSON to the gateway's integration".into()),
    }
    Ok(())
}
