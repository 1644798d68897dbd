//! Checks on a service declaration that look at more than one of its statements.

use super::Lowerer;
use crate::diagnostic::Diagnostic;
use crate::ir::Service;
use palisade_syntax::ast;

impl Lowerer<'_> {
    /// A service cannot be both encrypted and inspected (E0214): a gateway sees ciphertext,
    /// enforces nothing on it and, in IPS mode, drops every session it cannot parse.
    pub(super) fn encrypted_inspection(&mut self, file: u32, svc: &Service, inspect: ast::Span) {
        if !svc.confidentiality {
            return;
        }
        let family = svc.inspect.map(|f| f.name()).unwrap_or("?");
        let diag = Diagnostic::error(
            "E0214",
            format!(
                "service `{}` is encrypted and cannot be inspected as `{family}`",
                svc.name
            ),
        )
        .primary(
            self.loc(file, inspect),
            "a gateway would see only ciphertext here",
        )
        .secondary(
            self.policy.location(svc.span),
            "it `provides [confidentiality]`",
        )
        .help("inspect the plain protocol's service, or drop `inspect` from the encrypted one");
        self.diags.push(diag);
    }
}
