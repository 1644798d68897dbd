//! Lowering of device statements that need more than a lookup: a gateway's `mode`.

use super::Lowerer;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::ir::{Device, DeviceKind, GatewayMode};
use palisade_syntax::ast;

impl Lowerer<'_> {
    /// `mode ips` / `mode ids` on a gateway (E0213 otherwise).
    pub(super) fn device_mode(&mut self, file: u32, dev: &mut Device, mode: &ast::Ident) {
        if dev.kind == DeviceKind::Firewall {
            let diag = Diagnostic::error(
                "E0213",
                format!("firewall `{}` takes no `mode`", dev.name),
            )
            .primary(self.loc(file, mode.span), "only gateways have a mode")
            .help("a firewall always enforces its rules; `mode ips` or `mode ids` is for gateways");
            self.diags.push(diag);
            return;
        }
        dev.mode = match mode.name.as_str() {
            "ips" => GatewayMode::Ips,
            "ids" => GatewayMode::Ids,
            other => {
                let help = did_you_mean(other, ["ips", "ids"]).unwrap_or_else(|| {
                    "`ips` enforces (drops what the conduits do not admit), `ids` only monitors"
                        .into()
                });
                let diag = Diagnostic::error("E0213", format!("unknown gateway mode `{other}`"))
                    .primary(self.loc(file, mode.span), "not a mode")
                    .help(help);
                self.diags.push(diag);
                return;
            }
        };
    }
}
