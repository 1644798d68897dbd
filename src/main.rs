//! `palisade`: the command line of the Palisade policy compiler.
//!
//! Exit codes: 0 clean, 1 errors in the policy (or files `fmt --check` would change),
//! 2 usage or I/O errors.

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::render::{self, SourceMap};
use palisade_compiler::site::{self, Loaded};
use palisade_compiler::{checks, codes, Diagnostic};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod build;
mod output;
mod report;
mod sarif;
mod verify;
mod window;
mod workorder;

#[derive(Parser)]
#[command(
    name = "palisade",
    version,
    about = "Policy-as-code compiler for industrial (OT/ICS) network segmentation",
    long_about = "Palisade reads a site described in .pal files (zones, assets, conduits, \
topology, roles, work orders, data flows, assertions), type-checks it, proves its assertions \
and the default profile, and emits firewall rulesets, gateway rules, work-order workflows and \
an audit report.\n\nA PATH is a .pal file (with the files it imports) or a directory whose \
.pal files form one site.\n\nExit status: 0 clean (verify, build: everything proved), 1 errors \
in the policy or a refuted or unknown property, 2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    /// Rendered with the source, coloured on a terminal.
    Human,
    /// One line per diagnostic: file:line:col: severity[code]: message.
    Short,
    /// One JSON document with every diagnostic.
    Json,
    /// One SARIF 2.1.0 log on stdout, for code-review tools (docs/ci.md).
    Sarif,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve and check a site; print every diagnostic.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
        /// Treat warnings as errors (exit 1 when there is any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Format .pal files in place (comments kept); with --check, only report.
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing; exit 1 when a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Check and verify the site, then write each device's output (rulesets, gateway rules,
    /// work-order workflows) into a directory; nothing is written unless everything succeeds.
    Build {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output directory.
        #[arg(short = 'o', long = "out", default_value = "out")]
        out: PathBuf,
        /// Emit this target for every device of the fitting kind instead of each device's own:
        /// nftables, iptables, cisco-ios (firewalls); suricata, allowlist-json (gateways);
        /// or only the work-order workflows: bpmn, workflow-json (workflows/<order>.bpmn|.json;
        /// a build without --target writes both).
        #[arg(long)]
        target: Option<String>,
        /// Removed: a gateway's mode is part of the site (`mode ips` / `mode ids`).
        #[arg(long, hide = true)]
        ips: bool,
        /// Also write palisade-monitor.rules: alerts on the protocol constraints of every
        /// conduit, for a SOC sensor, whatever gateway enforces them.
        #[arg(long)]
        monitor: bool,
        /// Emergencies only: write the outputs without proving the site's assertions and
        /// profile first (the rulesets are still validated against the policy); every file
        /// written says UNVERIFIED in its header.
        #[arg(long)]
        no_verify: bool,
        /// Emergencies only: skip translation validation, the Z3 proof that each firewall
        /// ruleset and gateway rule file (read back from the emitted text) permits exactly
        /// what the policy permits; every file written says NOT VALIDATED in its header.
        #[arg(long)]
        no_validate: bool,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
    /// Prove the site's assertions and profile; print each verdict (exit 0 only if all proved).
    Verify {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
        /// Write the proof record (JSON) to FILE, atomically.
        #[arg(long, value_name = "FILE")]
        proof_out: Option<PathBuf>,
        /// Write every solver query as SMT-LIB into DIR.
        #[arg(long, value_name = "DIR")]
        emit_smt2: Option<PathBuf>,
        /// Also print the zone-to-zone reachability matrix.
        #[arg(long)]
        matrix: bool,
        /// Per-query solver timeout in milliseconds; a query that runs out is unknown.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u32,
    },
    /// Write the audit report (report.html with the zone/conduit diagram, report.json) into a
    /// directory: every proof, security levels, work orders, IEC 62443-3-3 evidence, hashes.
    /// Exit 1 when a property is refuted or unknown (the report is still written).
    Report {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output directory.
        #[arg(short = 'o', long = "out", default_value = "report")]
        out: PathBuf,
        /// Per-query solver timeout in milliseconds; a query that runs out is unknown.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u32,
        /// Print a date (YYYY-MM-DD) in the report as the date it was made; without it the
        /// report carries no date, so the same inputs give byte-identical output.
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
    },
    /// Print the resolved policy IR of a site as JSON.
    Ir {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Explain a diagnostic code, e.g. `palisade explain E0401`.
    Explain {
        /// A code such as E0401, or `list` for all codes.
        code: String,
    },
    /// Run the language server on stdin/stdout, for editors (see docs/editors.md).
    Lsp {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Open or close one instance of a work order on the firewalls (prints the commands;
    /// --apply runs them here). See docs/firewalls.md.
    Workorder {
        #[command(subcommand)]
        command: workorder::WorkorderCommand,
    },
    /// Write a synthetic site of a given size (for benchmarks); see docs/synth.md.
    Synth {
        #[arg(long, default_value_t = 200)]
        zones: usize,
        #[arg(long, default_value_t = 5000)]
        assets: usize,
        #[arg(long, default_value_t = 2000)]
        conduits: usize,
        /// Conduit rules in total, spread evenly over the conduits.
        #[arg(long, default_value_t = 20000)]
        rules: usize,
        /// Number of .pal files to split the site into.
        #[arg(long, default_value_t = 10)]
        files: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory to write the site into (created if missing).
        #[arg(short, long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check {
            paths,
            message_format,
            deny_warnings,
        } => cmd_check(&paths, message_format, deny_warnings),
        Command::Fmt { paths, check } => cmd_fmt(&paths, check),
        Command::Ir { paths } => cmd_ir(&paths),
        Command::Build { ips: true, .. } => Err("--ips is gone: a gateway's mode is part of the site now; write `mode ips` (the default) or `mode ids` in the gateway".into()),
        Command::Build {
            paths,
            out,
            target,
            monitor,
            no_verify,
            no_validate,
            message_format,
            ..
        } => build::cmd_build(
            &paths,
            &out,
            target.as_deref(),
            message_format,
            build::GatewayOptions { monitor },
            build::Checks {
                verify: !no_verify,
                validate: !no_validate,
            },
        ),
        Command::Explain { code } => cmd_explain(&code),
        Command::Report {
            paths,
            out,
            timeout_ms,
            date,
        } => report::cmd_report(&paths, &out, timeout_ms, date.as_deref()),
        Command::Verify {
            paths,
            message_format,
            proof_out,
            emit_smt2,
            matrix,
            timeout_ms,
        } => verify::cmd_verify(
            &paths,
            message_format,
            proof_out.as_deref(),
            emit_smt2,
            matrix,
            timeout_ms,
        ),
        Command::Lsp { .. } => palisade_lsp::run()
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| e.to_string()),
        Command::Workorder { command } => workorder::cmd_workorder(command),
        Command::Synth {
            zones,
            assets,
            conduits,
            rules,
            files,
            seed,
            out,
        } => cmd_synth(
            palisade_compiler::synth::SynthSpec {
                zones,
                assets,
                conduits,
                rules,
                files,
                seed,
            },
            &out,
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A site loaded into a fresh database.
struct Session {
    db: Database,
    site: palisade_compiler::db::Site,
    sources: SourceMap,
}

fn load(paths: &[PathBuf]) -> Result<Session, String> {
    let loaded: Loaded = site::load(paths).map_err(|e| e.to_string())?;
    let mut sources = SourceMap::default();
    for f in &loaded.files {
        sources.add(&f.path, &f.text);
    }
    let db = Database::default();
    let site = site::into_site(&db, loaded, checks::today());
    Ok(Session { db, site, sources })
}

/// Write to standard output; a reader that went away (`| head`) is not a reason to panic.
fn stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn print_diagnostics(
    diags: &[Diagnostic],
    sources: &SourceMap,
    format: MessageFormat,
) -> Result<(), String> {
    match format {
        MessageFormat::Json => stdout(&format!("{}\n", render::json(diags, sources))),
        MessageFormat::Sarif => {
            let root = std::env::current_dir().map_err(|e| e.to_string())?;
            // A closed pipe (`| head`) is not a reason to panic.
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}",
                sarif::render(diags, sources, &root)
            );
        }
        MessageFormat::Short => eprint!("{}", render::short(diags, sources)),
        MessageFormat::Human => {
            let choice = if std::io::stderr().is_terminal() {
                ColorChoice::Auto
            } else {
                ColorChoice::Never
            };
            let mut out = StandardStream::stderr(choice);
            render::human(diags, sources, &mut out).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn summary(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

fn cmd_check(
    paths: &[PathBuf],
    format: MessageFormat,
    deny_warnings: bool,
) -> Result<ExitCode, String> {
    let s = load(paths)?;
    let diags = site_diagnostics(&s.db, s.site);
    print_diagnostics(diags, &s.sources, format)?;
    let (errors, warnings) = summary(diags);
    if !matches!(format, MessageFormat::Json | MessageFormat::Sarif) {
        let name = render::escape_for_terminal(&policy_ir(&s.db, s.site).site.name);
        eprintln!("checked site `{name}`: {errors} error(s), {warnings} warning(s)");
    }
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn cmd_ir(paths: &[PathBuf]) -> Result<ExitCode, String> {
    let s = load(paths)?;
    let diags = site_diagnostics(&s.db, s.site);
    if diags.iter().any(|d| d.is_error()) {
        print_diagnostics(diags, &s.sources, MessageFormat::Human)?;
        eprintln!("no IR printed: the site has errors");
        return Ok(ExitCode::from(1));
    }
    let ir = policy_ir(&s.db, s.site);
    let json = serde_json::to_string_pretty(ir).map_err(|e| e.to_string())?;
    stdout(&format!("{json}\n"));
    Ok(ExitCode::SUCCESS)
}

fn pal_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "pal"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn cmd_fmt(paths: &[PathBuf], check: bool) -> Result<ExitCode, String> {
    let mut unformatted = Vec::new();
    let mut broken = false;
    for path in pal_files(paths)? {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        match palisade_syntax::format::format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check {
                    unformatted.push(path.display().to_string());
                } else {
                    output::write_atomic(&path, formatted.as_bytes())
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
            }
            Err(err) => {
                broken = true;
                let shown = path.display().to_string();
                let mut sources = SourceMap::default();
                sources.add(&shown, &text);
                let diags: Vec<Diagnostic> = err
                    .errors
                    .iter()
                    .map(|e| {
                        Diagnostic::error(e.code, e.message.clone()).primary(
                            palisade_compiler::diagnostic::Location {
                                file: shown.clone(),
                                start: e.span.start,
                                end: e.span.end,
                            },
                            "unexpected here",
                        )
                    })
                    .collect();
                print_diagnostics(&diags, &sources, MessageFormat::Human)?;
                eprintln!("{shown}: not formatted ({err})");
            }
        }
    }
    for f in &unformatted {
        stdout(&format!("would reformat {f}\n"));
    }
    Ok(if broken || !unformatted.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn cmd_explain(code: &str) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    if code == "list" {
        for c in codes::CODES {
            writeln!(out, "{}  {}", c.code, c.title).map_err(|e| e.to_string())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    match codes::lookup(code) {
        Some(c) => {
            writeln!(out, "{}: {}\n\n{}", c.code, c.title, c.explanation)
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        None => Err(format!(
            "no diagnostic code `{code}`; `palisade explain list` shows them all"
        )),
    }
}

fn cmd_synth(
    spec: palisade_compiler::synth::SynthSpec,
    out: &std::path::Path,
) -> Result<ExitCode, String> {
    if spec.conduits > 0 && spec.rules < spec.conduits {
        eprintln!("note: fewer rules than conduits: some conduits will have no rules (W0402)");
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = palisade_compiler::synth::generate(&spec);
    for (name, text) in &files {
        let path = out.join(name);
        output::write_atomic(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!("wrote {} file(s) to {}", files.len(), out.display());
    Ok(ExitCode::SUCCESS)
}
