//! The formatter's layout decisions, and the round trip over every `.pal` file we have.

use crate::support::{corpus, round_trip};
use palisade_syntax::ast::ItemKind;
use palisade_syntax::format::format;
use palisade_syntax::parse;

/// Format `input`, compare with `expected`, and check the round trip and idempotence too.
/// A leading line break of either text is dropped, so both can be written as raw blocks.
fn formats_to(input: &str, expected: &str) {
    let input = input.strip_prefix('\n').unwrap_or(input);
    let expected = expected.strip_prefix('\n').unwrap_or(expected);
    let once = round_trip(input).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        once, expected,
        "\n--- got\n{once}\n--- expected\n{expected}"
    );
}

#[test]
fn every_pal_file_round_trips() {
    let mut failures = Vec::new();
    for path in corpus() {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = round_trip(&text) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn comments_lead_trail_and_close_blocks() {
    formats_to(
        r#"
// file header

role a // trails a
/* before b */ role b
zone z { // after brace
    network 10.0.0.0/8 ; // trails network
  // end of zone
}
// end of file"#,
        r#"
// file header

role a // trails a
/* before b */
role b

zone z {
  // after brace
  network 10.0.0.0/8 // trails network
  // end of zone
}
// end of file
"#,
    );
}

#[test]
fn comments_inside_a_one_line_statement_move_before_it() {
    formats_to(
        r#"
group g = [a, /* x */
  b] // y
zone /* in header */ z { network 10.0.0.0/8 }
"#,
        r#"
/* x */
group g = [a, b] // y

zone z {
  /* in header */
  network 10.0.0.0/8
}
"#,
    );
}

#[test]
fn trailing_comment_after_a_block_and_its_tail() {
    formats_to(
        r#"
conduit c: a -> b {
  allow x -> y : modbus { function [1]; unit [2] } when workorder w // t
  allow x -> y : modbus { function [1] }
} // end
"#,
        r#"
conduit c: a -> b {
  allow x -> y : modbus {
    function [1]
    unit [2]
  } when workorder w // t
  allow x -> y : modbus { function [1] }
} // end
"#,
    );
}

#[test]
fn blank_lines_between_kinds_and_where_the_source_had_them() {
    formats_to(
        r#"
role a


role b
role c
const x = 1
zone z {

  network 10.0.0.0/8


  network 10.1.0.0/16

}
const y = 2
const w = 3
"#,
        r#"
role a

role b
role c

const x = 1

zone z {
  network 10.0.0.0/8

  network 10.1.0.0/16
}

const y = 2
const w = 3
"#,
    );
}

#[test]
fn blank_line_goes_before_the_comments_of_the_next_kind() {
    formats_to(
        r#"
role a
// the plant
zone z { network 10.0.0.0/8 }
// first

// second
role b
"#,
        r#"
role a

// the plant
zone z {
  network 10.0.0.0/8
}

// first

// second
role b
"#,
    );
}

#[test]
fn one_line_bodies() {
    formats_to(
        r#"
zone z {
  asset a at 10.0.0.1 {
    kind plc
  }
  asset b at 10.0.0.2 { kind plc; bridge }
  asset c at 10.0.0.3 { kind plc /* why */ }
  asset d at 10.0.0.4 {}
  asset e "A title long enough to push the one-line form past one hundred columns" at 10.0.0.5 { kind hmi }
}
service s = tcp/1 {
 broadcast } // c
site "S" {
 timezone "UTC" }
zone y {}
zone x { // only a comment
}
"#,
        r#"
zone z {
  asset a at 10.0.0.1 { kind plc }
  asset b at 10.0.0.2 {
    kind plc
    bridge
  }
  asset c at 10.0.0.3 {
    kind plc /* why */
  }
  asset d at 10.0.0.4 {}
  asset e "A title long enough to push the one-line form past one hundred columns" at 10.0.0.5 {
    kind hmi
  }
}

service s = tcp/1 { broadcast } // c

site "S" { timezone "UTC" }

zone y {}

zone x {
  // only a comment
}
"#,
    );
}

#[test]
fn profiles() {
    formats_to(
        r#"
profile p { require a {}; require b { min_level 0x3 }; disable c
 require d { x 4h; y [a, b] } }
"#,
        r#"
profile p {
  require a
  require b { min_level 0x3 }
  disable c
  require d {
    x 4h
    y [a, b]
  }
}
"#,
    );
}

#[test]
fn numbers_keep_hex_and_otherwise_become_decimal() {
    formats_to(
        r#"
protocol cip { service get_attribute_single = 0x0E { access read } }
const p = 0502
service s = ethertype/0X88b5
"#,
        r#"
protocol cip {
  service get_attribute_single = 0x0E { access read }
}

const p = 502

service s = ethertype/0x88b5
"#,
    );
}

#[test]
fn literals_take_their_canonical_form() {
    formats_to(
        r#"
role r "say \"hi\" \\ now";; role s
const v6 = FD00:0:0:0:0:0:0:1
const mapped = ::ffff:102:304
workorder w { max_duration 90m; review_after 24h; window Mon-Fri,Sun 06:00-18:00; requested_by [a] }
"#,
        r#"
role r "say \"hi\" \\ now"
role s

const v6 = fd00::1
const mapped = ::ffff:102:304

workorder w {
  max_duration 90m
  review_after 24h
  window Mon-Fri, Sun 06:00-18:00
  requested_by a
}
"#,
    );
}

#[test]
fn semicolons_between_items_are_separators() {
    let parsed = parse(";role a;; role b;\n;");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.file.items.len(), 2);
    assert!(parsed
        .file
        .items
        .iter()
        .all(|i| matches!(i.kind, ItemKind::Role(_))));
}

#[test]
fn broken_files_are_refused() {
    let err = format("zone z { network }\nrole").unwrap_err();
    assert_eq!(err.errors.len(), 2, "{:?}", err.errors);
    assert!(format("zone § {}").is_err());
}

#[test]
fn empty_and_comment_only_files() {
    formats_to("", "");
    formats_to(" \n\n ", "");
    formats_to("// a\n\n\n/* b */  ", "// a\n\n/* b */\n");
}
