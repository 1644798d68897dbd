//! nftables output: golden files per example, `nft -c` on every output (examples and
//! generated sites), determinism, and hostile names.

use crate::fw_support::*;
use palisade_compiler::ir::Target;
use palisade_targets::nftables;

#[test]
fn examples_golden_and_nft_check() {
    let check = require(&["nft", "unshare"], "nft -c on examples");
    for ex in EXAMPLES {
        let policy = example(ex);
        let devices = linux_firewalls(&policy);
        let files = nftables::emit(&policy, &devices).unwrap_or_else(|e| panic!("{ex}: {e:?}"));
        for f in &files {
            insta::assert_snapshot!(format!("nft_{ex}_{}", f.path), f.contents);
            if check {
                nft_check(&f.contents)
                    .unwrap_or_else(|e| panic!("{ex}/{}: nft -c failed:\n{e}", f.path));
            }
        }
        let again = nftables::emit(&policy, &devices).unwrap();
        assert_eq!(files, again, "{ex}: output not deterministic");
        let _ = Target::Nftables;
    }
}
