//! `pare build`'s human summary, a pure function of the build report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pare_minify::probe::Origin;
use pare_minify::report::Difference;
use pare_minify::{BuildReport, Phase};

use super::truncate;
use crate::units::{bytes, count};

/// The summary `pare build` prints: what was made, how much smaller, what was
/// verified, what of the app's own was left out and how to keep it, where the
/// report is.
pub fn summary(r: &BuildReport, report_path: &std::path::Path) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Slim image   {}", r.outputs.join(", "));
    let _ = writeln!(
        out,
        "Size         {} -> {} ({:.1}x smaller); {} compressed, as stored",
        bytes(r.original.uncompressed_bytes),
        bytes(r.slim.uncompressed_bytes),
        r.ratio,
        bytes(r.slim.compressed_bytes)
    );
    let _ = writeln!(
        out,
        "Files        {} -> {} ({} removed)",
        count(r.original.files),
        count(r.slim.files),
        count(r.files_removed)
    );
    let _ = writeln!(out, "{}", packages_line(&r.packages));
    let probes: Vec<String> = r
        .probes
        .iter()
        .filter(|p| p.origin != Origin::Pare)
        .map(|p| {
            format!(
                "{} {}",
                p.probe,
                p.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into())
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "Probes       {}",
        if probes.is_empty() {
            "none".to_owned()
        } else {
            probes.join(", ")
        }
    );
    own_probes(&mut out, r);
    verification(&mut out, r);
    suspect_probes(&mut out, r);
    reach(&mut out, &r.reach);
    if let Some(v) = &r.vulnerabilities {
        let _ = writeln!(
            out,
            "Advisories   {} -> {} ({} proven absent{})",
            count(v.before as u64),
            count(v.after as u64),
            count((v.before - v.after.min(v.before)) as u64),
            r.vex
                .as_deref()
                .map(|p| format!("; VEX: {p}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "Syscalls     {} used", r.syscalls.len());
    let _ = writeln!(out, "Runtime      {}", r.runtime);
    let phases: Vec<String> = Phase::ALL
        .iter()
        .filter_map(|p| {
            r.phases_ms
                .get(p.name())
                .map(|ms| format!("{} {:.1}s", p.name(), *ms as f64 / 1000.0))
        })
        .collect();
    let _ = writeln!(out, "Time         {}", phases.join(", "));
    let _ = writeln!(out, "Report       {}", report_path.display());
    if let Some(p) = &r.seccomp_profile {
        let _ = writeln!(out, "Seccomp      {p}");
    }
    for note in &r.notes {
        let _ = writeln!(out, "Note         {note}");
    }
    for left in &r.left_out {
        let _ = writeln!(out, "Left out     {} ({})", left.path, left.reason);
    }
    app_files(&mut out, r, report_path);
    // Paths, probe answers and notes come from the image: no control character of
    // theirs reaches the terminal.
    super::escape::escape_text(&out).into_owned()
}

/// `Own probes   GET /pare-probe-missing-… 404 -> 404, DELETE / 405 -> 405`: pare's own
/// probes (error handlers, HEAD), with the original's status and the slim image's.
fn own_probes(out: &mut String, r: &BuildReport) {
    // The slim image's answers, in the same order, unless it never got to answer.
    let slim = r
        .verification
        .as_ref()
        .map(|v| &v.probes)
        .filter(|answers| answers.len() == r.probes.len());
    let shown: Vec<String> = r
        .probes
        .iter()
        .enumerate()
        .filter(|(_, p)| p.origin == Origin::Pare)
        .map(|(i, p)| {
            let status = |s: Option<u16>| s.map_or_else(|| "-".to_owned(), |s| s.to_string());
            match slim.and_then(|answers| answers.get(i)) {
                Some(answer) => format!(
                    "{} {} -> {}",
                    p.probe,
                    status(p.status),
                    status(answer.status)
                ),
                None => format!("{} {}", p.probe, status(p.status)),
            }
        })
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "Own probes   {}", shown.join(", "));
    }
}

/// `Suspect      POST /note/: the original answers 400 Bad Request: …`: probes whose
/// answers on the original prove little ([`pare_minify::report::SuspectProbe`]); the
/// reason says the status.
fn suspect_probes(out: &mut String, r: &BuildReport) {
    for s in &r.suspect_probes {
        let _ = writeln!(out, "Suspect      {}: {}", s.probe, s.why);
    }
}

/// `Verified ...`, or each difference as a diff of the two answers.
fn verification(out: &mut String, r: &BuildReport) {
    match &r.verification {
        Some(v) if v.passed => {
            let what = match v.probes.len() {
                0 => "started like the original (no probes to compare)".to_owned(),
                1 => "answers the probe the same".to_owned(),
                n => format!("answers all {n} probes the same"),
            };
            let noise = match v.ignored.len() {
                0 => String::new(),
                1 => "; 1 difference was noise".to_owned(),
                n => format!("; {n} differences were noise"),
            };
            let profile = if v.seccomp_applied {
                format!("under the seccomp profile of {}", r.seccomp_mode.name())
            } else {
                "without its seccomp profile".to_owned()
            };
            // "The same" of an answer that was an error on the original too is not a
            // proof: say so on this line, the Suspect lines below say which.
            let suspect = match r.suspect_probes.len() {
                0 => String::new(),
                1 => "; 1 of them is suspect, below".to_owned(),
                n => format!("; {n} of them are suspect, below"),
            };
            let _ = writeln!(
                out,
                "Verified     the slim image {what} ({profile}{noise}){suspect}"
            );
        }
        Some(v) => {
            let probes: std::collections::BTreeSet<&str> =
                v.differences.iter().map(|d| d.probe.as_str()).collect();
            let n = probes.len();
            let _ = writeln!(
                out,
                "NOT VERIFIED the slim image answers {n} probe{} differently:",
                if n == 1 { "" } else { "s" }
            );
            for d in &v.differences {
                difference(out, d);
            }
        }
        None => {
            let _ = writeln!(out, "Verified     skipped (--no-verify)");
        }
    }
}

/// How far the probes reached, and what pare kept that no probe used: what
/// "Verified" covers, and what protects the rest.
fn reach(out: &mut String, f: &pare_minify::reach::Figures) {
    let mut reached = Vec::new();
    if f.app_files > 0 {
        reached.push(format!(
            "{} of {} app files",
            count(f.app_files_touched),
            count(f.app_files)
        ));
    }
    if f.modules > 0 {
        reached.push(format!(
            "{} of {} kept modules",
            count(f.modules_touched),
            count(f.modules)
        ));
    }
    if !reached.is_empty() {
        let _ = writeln!(
            out,
            "Reach        the probes used {}",
            reached.join(" and ")
        );
    }
    if !f.not_followed.is_empty() {
        let files: u64 = f.not_followed.values().sum();
        let kinds: Vec<String> = f
            .not_followed
            .iter()
            .map(|(kind, n)| match (*n, kind.ends_with('s')) {
                (1, _) => format!("1 {kind}"),
                (n, true) => format!("{} {kind}es", count(n)),
                (n, false) => format!("{} {kind}s", count(n)),
            })
            .collect();
        let (they_load, they_need) = if files == 1 {
            ("it loads or runs", "it needs")
        } else {
            ("they load or run", "they need")
        };
        let _ = writeln!(
            out,
            "Not followed {}: pare does not read what {they_load}; what {they_need} only on paths no probe took is left out (probe those paths, or --include-path)",
            kinds.join(", ")
        );
    }
    if f.keep == pare_minify::reach::KeepMode::Traced {
        let _ = writeln!(
            out,
            "Kept unseen  nothing (--keep traced): only the probed paths are kept and proven"
        );
        return;
    }
    let files: u64 = f.unseen.values().map(|t| t.files).sum();
    if files == 0 {
        return;
    }
    let bytes_unseen: u64 = f.unseen.values().map(|t| t.bytes).sum();
    let parts: Vec<String> = f
        .unseen
        .iter()
        .map(|(reason, t)| {
            let one = t.files == 1;
            let what = match reason {
                pare_minify::keep_set::Reason::AppFile if one => "app file",
                pare_minify::keep_set::Reason::AppFile => "app files",
                pare_minify::keep_set::Reason::Imported if one => "imported module",
                pare_minify::keep_set::Reason::Imported => "imported modules",
                pare_minify::keep_set::Reason::ResourceSet => "in resource sets",
                pare_minify::keep_set::Reason::StateDir if one => "writable directory",
                pare_minify::keep_set::Reason::StateDir => "writable directories",
                pare_minify::keep_set::Reason::Alias if one => "other name of a kept program",
                pare_minify::keep_set::Reason::Alias => "other names of kept programs",
                _ => "other",
            };
            format!("{} {what}", count(t.files))
        })
        .collect();
    let _ = writeln!(
        out,
        "Kept unseen  {} files ({}) no probe used, reachable by the app: {} (--keep traced leaves them out)",
        count(files),
        bytes(bytes_unseen),
        parts.join(", ")
    );
}

/// At most this many lines of a difference's diff.
const DIFF_LINES: usize = 24;

/// One difference: a field on one line (`GET /health $.pid: 9 -> 6`, with the
/// `--verify-ignore` that accepts it), or for a text body a unified diff of the
/// answers cut to the lines around what differs.
fn difference(out: &mut String, d: &Difference) {
    if d.place != "body" && !d.place.is_empty() {
        let accept = d
            .accept_with
            .as_deref()
            .map(|a| format!("  (accept with --verify-ignore '{a}')"))
            .unwrap_or_default();
        // A value of several lines (an error with what the app printed) goes on, indented.
        let slim = truncate(&d.slim, 2000).replace('\n', "\n      ");
        let _ = writeln!(
            out,
            "  {} {}: {} -> {slim}{accept}",
            d.probe,
            d.place,
            truncate(&d.original, 80).replace('\n', " "),
        );
        return;
    }
    let lines = |text: &str| {
        if d.place.is_empty() {
            answer_lines(text)
        } else {
            body_lines(text)
        }
    };
    let (original, slim) = (lines(&d.original), lines(&d.slim));
    let diff = similar::TextDiff::from_lines(&original, &slim);
    let mut lines = Vec::new();
    for hunk in diff
        .unified_diff()
        .context_radius(2)
        .header("original image", "slim image")
        .iter_hunks()
    {
        lines.push(hunk.header().to_string());
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            lines.push(format!(
                "{sign}{}",
                truncate(change.value().trim_end_matches('\n'), 160)
            ));
        }
    }
    let _ = writeln!(out, "  {}", d.probe);
    let _ = writeln!(out, "    --- original image\n    +++ slim image");
    let shown = lines.len().min(DIFF_LINES);
    for line in &lines[..shown] {
        let _ = writeln!(out, "    {line}");
    }
    if lines.len() > shown {
        let _ = writeln!(
            out,
            "    … {} more lines in the report",
            lines.len() - shown
        );
    }
}

/// An answer of a `pare.build/v2` report before differences had places (`STATUS
/// BODY`, or `error: …`) as lines to diff: the status on a line of its own.
fn answer_lines(answer: &str) -> String {
    match answer.split_once(' ') {
        Some((s, b)) if s.chars().all(|c| c.is_ascii_digit()) => {
            format!("status {s}\n{}", body_lines(b))
        }
        _ => body_lines(answer),
    }
}

/// A body as lines to diff, a JSON body pretty-printed so that a change deep in one
/// line of JSON shows as its own line.
fn body_lines(body: &str) -> String {
    let mut text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_owned());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Up to this many removed app files are named one by one; more, by directory.
const APP_FILES_LISTED: usize = 20;

/// The app's own files left out (each, or by directory when many), the dependencies it declares of which
/// nothing is left, and the flags that would keep them.
fn app_files(out: &mut String, r: &BuildReport, report_path: &std::path::Path) {
    let removed = &r.app_files_removed;
    let dirs = pare_minify::app_files::by_directory(removed);
    if removed.len() > APP_FILES_LISTED {
        let shown: Vec<String> = dirs
            .iter()
            .map(|(dir, n)| format!("{dir}/ ({n})"))
            .collect();
        let _ = writeln!(
            out,
            "App files    {} of the app's own files removed (listed in {}): {}",
            count(removed.len() as u64),
            report_path.display(),
            shown.join(", ")
        );
    } else if !removed.is_empty() {
        let _ = writeln!(
            out,
            "App files    {} of the app's own files removed: {}",
            count(removed.len() as u64),
            removed.join(" ")
        );
    }
    if !r.unused_dependencies.is_empty() {
        let names: Vec<&str> = r
            .unused_dependencies
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "Unused deps  the app declares {}, but no probe loaded them and no kept code imports them",
            names.join(", ")
        );
    }
    let flags: Vec<String> = dirs
        .iter()
        .map(|(dir, _)| dir.as_str())
        .chain(r.unused_dependencies.iter().map(|d| d.path.as_str()))
        .map(|path| format!("--include-path {path}"))
        .collect();
    if !flags.is_empty() {
        let _ = writeln!(
            out,
            "Keep them    if the app needs them (a module it loads lazily, a template): {}",
            flags.join(" ")
        );
    }
}

/// `Packages  135 -> 24 kept (111 removed: apt, bash, dpkg, perl-base, …)`: the
/// removed ones a reader looks for (shells, package managers) come first; a name
/// that more than one ecosystem removed is named once, with its types.
fn packages_line(p: &pare_minify::packages::Packages) -> String {
    let total = p.kept.len() + p.removed.len();
    if total == 0 {
        return "Packages     none found by the catalogers".into();
    }
    const NOTABLE: [&str; 8] = [
        "bash",
        "dash",
        "apt",
        "dpkg",
        "perl-base",
        "coreutils",
        "pip",
        "npm",
    ];
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for fate in &p.removed {
        by_name
            .entry(fate.name.as_str())
            .or_default()
            .push(fate.ecosystem.as_str());
    }
    let mut names: Vec<(&str, Vec<&str>)> = by_name.into_iter().collect();
    names.sort_by_key(|(n, _)| (!NOTABLE.contains(n), *n));
    let shown: Vec<String> = names
        .iter()
        .take(6)
        .map(|(name, types)| {
            if types.len() > 1 {
                format!("{name} ({})", types.join(", "))
            } else {
                (*name).to_owned()
            }
        })
        .collect();
    let more = if names.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    format!(
        "Packages     {} -> {} kept ({} removed{}{}{})",
        count(total as u64),
        count(p.kept.len() as u64),
        count(p.removed.len() as u64),
        if shown.is_empty() { "" } else { ": " },
        shown.join(", "),
        more
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real report of `pare build pare-test/flask:latest` with three probes.
    fn flask() -> BuildReport {
        serde_json::from_str(include_str!("fixtures/build-flask.json")).expect("fixture")
    }

    #[test]
    fn verified_build() {
        let report = flask();
        let path = std::path::Path::new("pare-build/pare-test_flask_latest/report.json");
        insta::assert_snapshot!(summary(&report, path));
    }

    #[test]
    fn vulnerabilities_proven_absent_are_counted_with_the_vex_document() {
        let mut report = flask();
        report.vulnerabilities = Some(pare_minify::vex::Vulnerabilities {
            before: 102,
            after: 13,
            component_not_present: 85,
            vulnerable_code_not_present: 4,
            database: "/root/.cache/pare/advisories.sqlite".into(),
        });
        report.vex = Some("pare-build/pare-test_flask_latest/vex.openvex.json".into());
        let path = std::path::Path::new("report.json");
        let text = summary(&report, path);
        assert!(
            text.contains(
                "Advisories   102 -> 13 (89 proven absent; VEX: pare-build/pare-test_flask_latest/vex.openvex.json)"
            ),
            "{text}"
        );
    }

    #[test]
    fn failed_verification_shows_each_difference_as_a_diff() {
        let mut report = flask();
        let verification = report.verification.as_mut().expect("verified");
        verification.passed = false;
        // A JSON value that changed, a status, and a text body that changed in a
        // line of its middle.
        verification.differences = vec![
            pare_minify::report::Difference {
                probe: "GET /api/items".into(),
                place: "$[0].owner.id".into(),
                original: "7".into(),
                slim: "9".into(),
                accept_with: Some("$[0].owner.id".into()),
            },
            pare_minify::report::Difference {
                probe: "POST /api/items".into(),
                place: "status".into(),
                original: "201".into(),
                slim: "500".into(),
                accept_with: None,
            },
            pare_minify::report::Difference {
                probe: "GET /".into(),
                place: "body".into(),
                original: "<ul>\n<li>one</li>\n<li>two</li>\n<li>three</li>\n</ul>\n".into(),
                slim: "<ul>\n<li>one</li>\n<li>2</li>\n<li>three</li>\n</ul>\n".into(),
                accept_with: None,
            },
        ];
        let path = std::path::Path::new("report.json");
        insta::assert_snapshot!(summary(&report, path));
    }

    #[test]
    fn a_package_name_removed_in_two_ecosystems_is_named_once() {
        let fate = |ecosystem: &str, name: &str| pare_minify::packages::PackageFate {
            ecosystem: ecosystem.into(),
            name: name.into(),
            version: "1".into(),
            purl: format!("pkg:{ecosystem}/{name}@1"),
            files: 1,
            files_kept: 0,
        };
        let packages = pare_minify::packages::Packages {
            kept: vec![fate("deb", "libc6")],
            removed: vec![fate("deb", "npm"), fate("npm", "npm"), fate("deb", "bash")],
            warnings: Vec::new(),
        };
        assert_eq!(
            packages_line(&packages),
            "Packages     4 -> 1 kept (3 removed: bash, npm (deb, npm))"
        );
    }

    #[test]
    fn pares_own_probes_and_suspect_ones_have_lines_of_their_own() {
        let mut report = flask();
        let answer = |probe: &str, origin: Origin, status: u16| pare_minify::probe::ProbeResult {
            probe: probe.into(),
            origin,
            status: Some(status),
            ..Default::default()
        };
        report.probes = vec![
            answer("GET /", Origin::User, 200),
            answer("GET /pare-probe-missing-7f3c9a1e", Origin::Pare, 404),
            answer("DELETE /", Origin::Pare, 405),
        ];
        let verification = report.verification.as_mut().expect("verified");
        verification.probes = vec![
            answer("GET /", Origin::User, 200),
            answer("GET /pare-probe-missing-7f3c9a1e", Origin::Pare, 404),
            answer("DELETE /", Origin::Pare, 405),
        ];
        report.suspect_probes = vec![pare_minify::report::SuspectProbe {
            probe: "POST /note/".into(),
            origin: Origin::User,
            status: 400,
            why: "the original answers 400 Bad Request: the probe is probably wrong".into(),
        }];
        let text = summary(&report, std::path::Path::new("report.json"));
        assert!(text.contains("Probes       GET / 200\n"), "{text}");
        assert!(
            text.contains(
                "Own probes   GET /pare-probe-missing-7f3c9a1e 404 -> 404, DELETE / 405 -> 405\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Suspect      POST /note/: the original answers 400 Bad Request: the probe is probably wrong\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("families the app used); 1 of them is suspect, below\n"),
            "{text}"
        );
    }

    #[test]
    fn kinds_of_code_reach_does_not_follow_are_named_with_what_to_do() {
        let mut report = flask();
        report.reach.not_followed = [("shell script".to_owned(), 1)].into();
        let text = summary(&report, std::path::Path::new("report.json"));
        assert!(
            text.contains(
                "Not followed 1 shell script: pare does not read what it loads or runs; what it needs only on paths no probe took is left out (probe those paths, or --include-path)\n"
            ),
            "{text}"
        );
        report.reach.not_followed =
            [("Java class".to_owned(), 2), ("Lua module".to_owned(), 3)].into();
        let text = summary(&report, std::path::Path::new("report.json"));
        assert!(
            text.contains("Not followed 2 Java classes, 3 Lua modules: pare does not read what they load or run; what they need only"),
            "{text}"
        );
        report.reach.not_followed.clear();
        let text = summary(&report, std::path::Path::new("report.json"));
        assert!(!text.contains("Not followed"), "{text}");
    }
}
