//! iptables output: golden files, `iptables-restore --test` and `iptables-legacy-restore
//! --test` (which notices jumps to missing chains) on every output after loading its ipsets,
//! translation validation of the files, determinism.

use crate::fw_support::*;
use palisade_targets::iptables;
use palisade_targets::model::enforced as place;
use palisade_targets::readback::iptables as reader;
use palisade_targets::validate::validate;

/// Load the ipsets and test both restore files, as root in a throwaway namespace.
pub fn ipt_check(ipset: &str, v4: &str, v6: &str) -> Result<(), String> {
    let dir = scratch("ipt");
    for (n, t) in [("s.ipset", ipset), ("r.v4", v4), ("r.v6", v6)] {
        std::fs::write(dir.join(n), t).unwrap();
    }
    let d = dir.display();
    let (ok, _, err) = in_netns(&format!(
        "set -e; ipset -exist restore < {d}/s.ipset; iptables-restore --test {d}/r.v4; ip6tables-restore --test {d}/r.v6; \
         iptables-legacy-restore --test {d}/r.v4; ip6tables-legacy-restore --test {d}/r.v6"
    ));
    let _ = std::fs::remove_dir_all(&dir);
    if ok {
        Ok(())
    } else {
        Err(err)
    }
}

#[test]
fn examples_golden_restore_test_and_validate() {
    let check = require(
        &[
            "iptables-restore",
            "ip6tables-restore",
            "iptables-legacy-restore",
            "ipset",
            "unshare",
        ],
        "iptables-restore --test on examples",
    );
    for ex in EXAMPLES {
        let policy = example(ex);
        let placement = place(&policy);
        for d in linux_firewalls(&policy) {
            let files =
                iptables::ruleset(&policy, &placement, d).unwrap_or_else(|e| panic!("{ex}: {e:?}"));
            for f in &files {
                insta::assert_snapshot!(format!("ipt_{ex}_{}", f.path), f.contents);
            }
            let [s, v4, v6] = [&files[0].contents, &files[1].contents, &files[2].contents];
            if check {
                ipt_check(s, v4, v6).unwrap_or_else(|e| {
                    panic!("{ex}/{}: restore --test failed:\n{e}", files[1].path)
                });
            }
            let rulesets = reader::read_device(s, v4, v6)
                .unwrap_or_else(|e| panic!("{ex}: cannot read back: {e}"));
            let proved = validate(
                &policy,
                &placement,
                d,
                &rulesets,
                &iptables::gate_names(&policy),
            );
            assert!(
                proved.is_ok(),
                "{ex}/{}: {}",
                policy.devices[d.index()].name,
                proved.unwrap_err()
            );
            assert_eq!(
                files,
                iptables::ruleset(&policy, &placement, d).unwrap(),
                "not deterministic"
            );
        }
    }
}
