//! The `palisade` binary as a user and a CI job run it: exit codes (0 clean, 1 errors in the
//! policy, 2 usage or I/O), the three message formats, `explain`, `fmt` and `ir`, and hostile
//! input that must never make it panic (exit 101).

use crate::support::{TempDir, TODAY};
use std::path::Path;
use std::process::{Command, Output};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_TODAY", TODAY)
        .output()
        .expect("the palisade binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code, with the output in the message when it is not the expected one.
#[track_caller]
fn assert_exit(o: &Output, expected: i32, what: &str) {
    assert_eq!(
        code(o),
        expected,
        "{what}: exit {}\n--- stdout\n{}\n--- stderr\n{}",
        code(o),
        stdout(o),
        stderr(o)
    );
}

/// A site with two errors, both on line 9: E0402 at column 16 and E0101 at column 22.
const BROKEN: &str = r#"site "Broken" { timezone "UTC" }

zone ops { security_level 2; network 10.30.0.0/24; asset hmi at 10.30.0.5 }
zone control { security_level 3; network 10.40.0.0/24; asset plc at 10.40.0.5 }

firewall fw { target nftables; interface "eth0" faces ops; interface "eth1" faces control }

conduit supervision: ops -> control {
  allow hmi -> hmi : modbuss
}
"#;

#[test]
fn exit_codes() {
    assert_exit(
        &palisade(&["check", "examples/water"]),
        0,
        "a clean example",
    );
    assert_exit(
        &palisade(&["check", "--deny-warnings", "examples/water"]),
        1,
        "warnings denied",
    );
    let dir = TempDir::new("exit");
    let broken = dir.write("broken.pal", BROKEN);
    let o = palisade(&["check", broken.to_str().unwrap()]);
    assert_exit(&o, 1, "a site with errors");
    assert!(stderr(&o).contains("2 error(s)"), "{}", stderr(&o));
    let missing = dir.path().join("no-such-site.pal");
    let o = palisade(&["check", missing.to_str().unwrap()]);
    assert_exit(&o, 2, "a missing path");
    assert!(
        stderr(&o).contains("no-such-site.pal"),
        "the error names the path: {}",
        stderr(&o)
    );
    assert_exit(
        &palisade(&["check", dir.path().join("empty").to_str().unwrap()]),
        2,
        "a missing directory",
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    assert_exit(
        &palisade(&["check", dir.path().join("empty").to_str().unwrap()]),
        2,
        "a directory without .pal files",
    );
    assert_exit(
        &palisade(&["check", "--no-such-flag", "examples/water"]),
        2,
        "a bad flag",
    );
    assert_exit(
        &palisade(&["check", "--message-format", "xml", "examples/water"]),
        2,
        "a bad format",
    );
    assert_exit(&palisade(&["check"]), 2, "no path");
    assert_exit(&palisade(&["frobnicate"]), 2, "an unknown command");
}

#[test]
fn json_messages() {
    let dir = TempDir::new("json");
    let broken = dir.write("broken.pal", BROKEN);
    let o = palisade(&[
        "check",
        "--message-format",
        "json",
        broken.to_str().unwrap(),
    ]);
    assert_exit(&o, 1, "json on a site with errors");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(&o)));
    assert_eq!(v["errors"], 2, "{v:#}");
    assert_eq!(v["warnings"], 0, "{v:#}");
    let diags = v["diagnostics"].as_array().expect("a diagnostics array");
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["E0402", "E0101"], "{v:#}");
    for d in diags {
        assert_eq!(d["severity"], "error");
        assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(d["notes"].is_array() && d.get("help").is_some(), "{d:#}");
        let labels = d["labels"].as_array().unwrap();
        assert_eq!(
            labels.iter().filter(|l| l["primary"] == true).count(),
            1,
            "{d:#}"
        );
        for l in labels {
            for key in ["start", "end", "line", "column", "end_line", "end_column"] {
                assert!(l[key].is_u64(), "label field {key}: {l:#}");
            }
            assert!(l["file"].is_string() && l["message"].is_string(), "{l:#}");
        }
    }
    let primary = &diags[0]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["primary"] == true)
        .unwrap()
        .clone();
    assert_eq!(
        (primary["line"].as_u64(), primary["column"].as_u64()),
        (Some(9), Some(16)),
        "{primary:#}"
    );
    assert!(
        diags[1]["help"]
            .as_str()
            .is_some_and(|h| h.contains("use std.services")),
        "a hint: {:#}",
        diags[1]
    );
    // A clean site is valid JSON too, with nothing on stderr to parse around.
    let o = palisade(&[
        "check",
        "--message-format",
        "json",
        "examples/manufacturing",
    ]);
    assert_exit(&o, 0, "json on a clean example");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["errors"], 0);
}

#[test]
fn short_messages() {
    let dir = TempDir::new("short");
    let broken = dir.write("broken.pal", BROKEN);
    let path = broken.to_str().unwrap();
    let o = palisade(&["check", "--message-format", "short", path]);
    assert_exit(&o, 1, "short");
    let lines: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with(path))
        .map(String::from)
        .collect();
    assert_eq!(
        lines,
        [
            format!("{path}:9:16: error[E0402]: the destination `hmi` is not in zone `control`"),
            format!("{path}:9:22: error[E0101]: cannot find service `modbuss`"),
        ],
        "{}",
        stderr(&o)
    );
}

#[test]
fn explain() {
    let o = palisade(&["explain", "E0401"]);
    assert_exit(&o, 0, "explain E0401");
    let text = palisade_compiler::codes::lookup("E0401").unwrap();
    assert!(
        stdout(&o).starts_with("E0401: rule source outside"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains(text.explanation), "{}", stdout(&o));
    assert_exit(&palisade(&["explain", "e0401"]), 0, "a lowercase code");
    let o = palisade(&["explain", "E9999"]);
    assert_exit(&o, 2, "an unknown code");
    assert!(
        stderr(&o).contains("E9999") && stdout(&o).is_empty(),
        "{}",
        stderr(&o)
    );
    let o = palisade(&["explain", "list"]);
    assert_exit(&o, 0, "explain list");
    for c in palisade_compiler::codes::CODES {
        assert!(
            stdout(&o).contains(&format!("{}  {}", c.code, c.title)),
            "{} is not listed",
            c.code
        );
    }
}

#[test]
fn fmt_check_and_rewrite() {
    let dir = TempDir::new("fmt");
    let original = std::fs::read_to_string("examples/water/site.pal").unwrap();
    // Unformatted but equivalent: every indentation gone, some statements joined by `;`.
    let messy: String = original
        .lines()
        .map(|l| l.trim_start())
        .collect::<Vec<_>>()
        .join("\n")
        .replace("kind server\ncapability 2", "kind server ;   capability 2");
    assert_ne!(messy, original);
    let file = dir.write("site.pal", &messy);
    let path = file.to_str().unwrap();
    let before = palisade(&["check", "--message-format", "short", path]);
    let o = palisade(&["fmt", "--check", path]);
    assert_exit(&o, 1, "fmt --check on an unformatted file");
    assert!(stdout(&o).contains("would reformat"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        messy,
        "--check wrote the file"
    );
    assert_exit(&palisade(&["fmt", path]), 0, "fmt");
    assert_exit(
        &palisade(&["fmt", "--check", path]),
        0,
        "fmt --check after fmt",
    );
    assert_exit(
        &palisade(&["fmt", "--check", dir.path().to_str().unwrap()]),
        0,
        "fmt --check on the directory",
    );
    let after = palisade(&["check", "--message-format", "short", path]);
    assert_eq!(
        code(&after),
        code(&before),
        "formatting changed the check's result:\n{}",
        stderr(&after)
    );
    let codes = |o: &Output| {
        stderr(o)
            .lines()
            .filter_map(|l| {
                l.split_once("[")
                    .map(|x| x.1.chars().take(5).collect::<String>())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&after), codes(&before));
    // A file that does not parse is not formatted, and says why.
    let bad = dir.write("bad.pal", "zone { network }\n");
    let o = palisade(&["fmt", bad.to_str().unwrap()]);
    assert_exit(&o, 1, "fmt on a file with syntax errors");
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "zone { network }\n");
    assert!(stderr(&o).contains("E0001"), "{}", stderr(&o));
}

#[test]
fn ir_prints_the_policy() {
    let o = palisade(&["ir", "examples/refinery"]);
    assert_exit(&o, 0, "ir of a clean example");
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("not JSON ({e})"));
    assert!(
        v["ir_version"].is_u64(),
        "no ir_version: {}",
        &stdout(&o)[..200.min(stdout(&o).len())]
    );
    assert!(v["zones"].as_array().is_some_and(|z| z.len() > 2));
    let dir = TempDir::new("ir");
    let broken = dir.write("broken.pal", BROKEN);
    let o = palisade(&["ir", broken.to_str().unwrap()]);
    assert_exit(&o, 1, "ir of a site with errors");
    assert!(stdout(&o).is_empty(), "a site with errors prints no IR");
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Check `file` in every message format: the binary exits 0 or 1, never panics.
#[track_caller]
fn survives(file: &Path, what: &str) {
    for format in ["human", "short", "json"] {
        let o = palisade(&["check", "--message-format", format, file.to_str().unwrap()]);
        assert!(
            matches!(code(&o), 0 | 1) && !stderr(&o).contains("panicked"),
            "{what} ({format}): exit {}\n{}\n--- input\n{:?}",
            code(&o),
            stderr(&o),
            std::fs::read_to_string(file).unwrap_or_default()
        );
    }
}

#[test]
fn hostile_input_never_panics() {
    let dir = TempDir::new("hostile");
    let long = "z".repeat(100_000);
    let hostile = [
        format!("site \"{long}\" {{ timezone \"UTC\" }}\nzone {long} {{ security_level 2; network 10.0.0.0/8 }}\nrole {long}\n"),
        "site \"quo\\\"te\\\\\" { timezone \"Europe/\\\"Paris\" }\nzone z\"x { }\n".to_string(),
        "site \"line\nbreak\" { timezone \"UTC\" }\nservice s = tcp/99999999999999999999999\n".to_string(),
        "\u{feff}site \"Zürich 東京 🚰\" { timezone \"Asia/Tōkyō\" }\nzone ζώνη { security_level 2 }\nasset é at 10.0.0.1\n".to_string(),
        "site \"crlf\" {\r\n  timezone \"UTC\"\r\n}\r\nzone a {\r\n  security_level 9\r\n  network 10.0.0.0/33\r\n}\r\n".to_string(),
        "site \"nul\" { timezone \"UTC\" }\0\0zone \0 { }\n/* unterminated block comment".to_string(),
        "zone a { network 999.1.1.1/8; network ::::/200; network 1.2.3.4/-1 }\nconst c = 2027-02-30\n".to_string(),
        "\"".repeat(1000),
        "{".repeat(5000) + &"}".repeat(10),
        "[".repeat(5000),
        "zone external { security_level 0; network 0.0.0.0/0 }\nconduit c: external -> external { allow any -> any : any }\n".to_string(),
        "site \"\" { timezone \"\" }\nuse \"\"\nuse \"/\"\nuse \"../../../../../../../../etc/passwd\"\nuse std.\nuse std.std.std\n".to_string(),
    ];
    for (i, text) in hostile.iter().enumerate() {
        let file = dir.write(&format!("hostile{i}.pal"), text);
        survives(&file, &format!("hostile input #{i}"));
    }
    // Random text: printable and control characters, quotes, Palisade punctuation, unicode.
    let alphabet: Vec<char> = "abcz_019 \n\t\r\"\\/{}[]();:,.-<>=*#@é東🚰\u{0}\u{7f}\u{200b}"
        .chars()
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..12 {
        let len = rng.below(600);
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        let file = dir.write(
            &format!("random{i}.pal"),
            format!("site \"r\" {{ timezone \"UTC\" }}\n{text}"),
        );
        survives(&file, &format!("random text #{i}"));
    }
    // Random bytes are not text: E0004 at the first byte that is not UTF-8 (exit 1), for the
    // file itself and for a file that imports it, never a panic.
    let bytes: Vec<u8> = (0..4096)
        .map(|_| rng.next() as u8)
        .chain([0xff, 0xfe])
        .collect();
    let raw = dir.write("bytes.pal", &bytes);
    let o = palisade(&["check", "--message-format", "short", raw.to_str().unwrap()]);
    assert_exit(&o, 1, "a file of random bytes");
    let out = stdout(&o) + &stderr(&o);
    assert!(
        out.contains("bytes.pal") && out.contains("error[E0004]"),
        "{out}"
    );
    survives(&raw, "a file of random bytes");
    let importer = dir.write(
        "importer.pal",
        "site \"i\" { timezone \"UTC\" }\nuse \"bytes.pal\"\n",
    );
    let o = palisade(&[
        "check",
        "--message-format",
        "short",
        importer.to_str().unwrap(),
    ]);
    assert_exit(&o, 1, "importing a file of random bytes");
    let out = stdout(&o) + &stderr(&o);
    assert!(out.contains("error[E0004]"), "{out}");
}

/// Issue 14 item 8: a byte-order mark at the start is skipped; a file that is not UTF-8 is
/// E0004 at its first offending byte (not an I/O error without a position).
#[test]
fn byte_order_mark_and_invalid_utf8() {
    let dir = TempDir::new("encoding");
    let clean = "site \"Encoded\" { timezone \"UTC\" }\nzone a { security_level 1; network 10.0.0.0/24 }\nassert isolated a\n";
    let bom = dir.write("bom.pal", format!("\u{feff}{clean}"));
    assert_exit(
        &palisade(&["check", bom.to_str().unwrap()]),
        0,
        "a file with a BOM",
    );

    let mut latin1 = clean.as_bytes().to_vec();
    // `Zürich` in Latin-1 inside the site name: byte 11 is 0xfc.
    latin1.splice(6..13, b"Z\xfcrich!".iter().copied());
    let bad = dir.write("latin1.pal", latin1);
    let o = palisade(&["check", "--message-format", "short", bad.to_str().unwrap()]);
    assert_exit(&o, 1, "a file that is not UTF-8");
    let out = stdout(&o) + &stderr(&o);
    assert!(
        out.contains(":1:8: error[E0004]:") && out.contains("not valid UTF-8 at byte 7"),
        "{out}"
    );
    let o = palisade(&["check", bad.to_str().unwrap()]);
    assert_exit(&o, 1, "a file that is not UTF-8 (human)");
    assert!(stdout(&o).contains("error[E0004]") || stderr(&o).contains("error[E0004]"));
}

/// Control characters, escape sequences and bidi controls from a site reach the terminal as
/// escapes (`\u{1b}`), in the human and the short format alike.
#[test]
fn terminal_output_escapes_control_characters() {
    let dir = TempDir::new("controls");
    let file = dir.write(
        "controls.pal",
        "site \"S\u{1b}]0;owned\u{7}\" { timezone \"UTC\" }\nperson \"p\u{1b}[2J\u{202e}\" { roles [r] }\nperson \"p\u{1b}[2J\u{202e}\" { roles [r] }\nrole r \"\u{7}bell\r\"\nzone a { security_level 1; network 10.0.0.0/24 }\nassert isolated a\n",
    );
    for format in ["human", "short"] {
        let o = palisade(&["check", "--message-format", format, file.to_str().unwrap()]);
        assert_exit(&o, 1, "a duplicate person");
        let out = stdout(&o) + &stderr(&o);
        for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\r'] {
            assert!(!out.contains(raw), "{format}: raw {raw:?} in\n{out}");
        }
        assert!(out.contains("p\\u{1b}[2J\\u{202e}"), "{format}:\n{out}");
        assert!(
            out.contains("checked site `S\\u{1b}]0;owned\\u{7}`"),
            "{format}:\n{out}"
        );
    }
}

#[test]
fn build_ends_with_one_summary_line_and_says_what_it_skipped() {
    let dir = TempDir::new("summary");
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let o = palisade(&["build", "examples/refinery", "-o", out_s]);
    assert_exit(&o, 0, "build");
    let last = stderr(&o).lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("build: ")
            && last.contains(
                " properties proved, 4 device ruleset(s) validated, 13 file(s) written to "
            ),
        "{last}"
    );
    let o = palisade(&[
        "build",
        "examples/refinery",
        "-o",
        out_s,
        "--no-verify",
        "--no-validate",
    ]);
    assert_exit(&o, 0, "build --no-verify --no-validate");
    let err = stderr(&o);
    assert!(
        err.contains("--no-verify: the site's assertions") && err.contains("NOT proved"),
        "{err}"
    );
    assert!(
        err.contains(
            "--no-validate: the emitted firewall rulesets and gateway rules were NOT proved"
        ),
        "{err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("NOT VERIFIED") && last.contains("NOT VALIDATED"),
        "{last}"
    );
    // Every file written says so in its header.
    let mut seen = 0;
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("UNVERIFIED: built without proving")
                && head.contains("NOT VALIDATED: built without proving"),
            "{}",
            entry.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 13);
    // A normal build over it writes clean headers again.
    let o = palisade(&["build", "examples/refinery", "-o", out_s]);
    assert_exit(&o, 0, "build");
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("UNVERIFIED") && !text.contains("NOT VALIDATED"),
            "{}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A `*.pal` in a site directory that cannot be read is an error, never silently skipped, and
/// a FIFO or device is refused rather than read (which would hang).
#[test]
fn unreadable_site_files_are_errors_not_skipped() {
    let dir = TempDir::new("unreadable");
    let site = std::fs::read_to_string("examples/refinery/site.pal").unwrap();
    dir.write("site.pal", &site);
    dir.write(
        "zones.pal",
        std::fs::read_to_string("examples/refinery/zones.pal").unwrap(),
    );
    let d = dir.path().to_str().unwrap().to_string();
    assert_exit(&palisade(&["check", &d]), 0, "the copy checks");
    std::os::unix::fs::symlink(
        "/nonexistent/assertions.pal",
        dir.path().join("assertions.pal"),
    )
    .unwrap();
    let o = palisade(&["check", &d]);
    assert_exit(&o, 2, "a dangling symlink");
    assert!(stderr(&o).contains("assertions.pal"), "{}", stderr(&o));
    std::fs::remove_file(dir.path().join("assertions.pal")).unwrap();
    let fifo = dir.path().join("pipe.pal");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if made {
        // Bounded: were the FIFO opened for reading, the command would wait for a writer.
        let o = Command::new("timeout")
            .args(["20", env!("CARGO_BIN_EXE_palisade"), "check", &d])
            .output()
            .unwrap();
        assert_exit(&o, 2, "a FIFO");
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }
}
