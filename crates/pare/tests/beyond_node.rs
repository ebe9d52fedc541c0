//! Issue 21: a slim image must keep working beyond the probes it was built with. The
//! Node kind: an express app (tests/images/lazy) whose routes load code and files only
//! when first called: the app's own modules, the npm package marked, Debian's
//! js-yaml from /usr/share/nodejs, Debian's ejs (which express requires by the name
//! in "view engine", a name no `require()` spells out), a worker thread's file, and
//! express's body parsers with iconv-lite's code pages. It is slimmed with the probe
//! a user writes on a first try (`GET /`), then sent what users do the day after
//! (pages from templates, the 404, 405, 400 and 500 pages, static files, the notes
//! form and its JSON API, other locales and zones, a worker thread, second commands)
//! in the original and in the slim image under the seccomp profile pare wrote. The
//! same checks against `--keep traced --seccomp learned` (the behaviour before the
//! issue) are printed beside, as the before/after evidence.

mod support;

use support::beyond::{Build, Check, assert_only_known, compare_service, print_evidence};
use support::{assert_nothing_left, pare_work_dirs, port_lock, test_image};

#[test]
fn the_lazy_node_app_keeps_working_beyond_its_probe() {
    if support::skip_without_engine() {
        return;
    }
    let app = test_image("lazy");
    let port = app.port.expect("lazy is a service image");
    let _lock = port_lock();
    let before = pare_work_dirs();
    let form = "application/x-www-form-urlencoded";
    let json = "application/json";
    let checks = [
        // Pages from views/ through Debian's ejs, with their partials.
        Check::get("/about"),
        Check::get("/items"),
        Check::get("/items/2"),
        Check::get("/notes"),
        // Error pages: 404 (a view), 405 (a view with Allow), 500 (the error view).
        Check::get("/items/99"),
        Check::get("/no/such/page"),
        Check::request("DELETE", "/notes", &[], b""),
        Check::send("PUT", "/notes", form, b"text=x"),
        Check::get("/boom"),
        Check::request("HEAD", "/", &[], b""),
        // Static files through express.static (send, mime, range requests).
        Check::get("/static/style.css"),
        Check::get("/static/app.js"),
        Check::get("/static/logo.png"),
        Check::get("/static/robots.txt"),
        Check::get("/static/missing.css"),
        Check::request("GET", "/static/style.css", &[("Range", "bytes=10-59")], b""),
        Check::request("HEAD", "/static/logo.png", &[], b""),
        // The lazily required modules: the app's, npm's marked, Debian's js-yaml.
        Check::get("/render"),
        Check::get("/render?md=%2A%2Ahi%2A%2A+and+%60code%60"),
        Check::get("/loaded"),
        Check::get("/settings"),
        Check::get("/settings.yaml"),
        // The notes form: urlencoded (utf-8 and Latin-1 through iconv-lite), its
        // errors, the JSON API and its 400 on a malformed body; it writes under
        // /tmp/notes, a directory the probe never made.
        Check::send("POST", "/notes", form, b"text=hello+from+the+test"),
        Check::send(
            "POST",
            "/notes",
            "application/x-www-form-urlencoded; charset=iso-8859-1",
            b"text=caf%E9+cr%E8me",
        ),
        Check::send("POST", "/notes", form, b"text="),
        Check::send("POST", "/notes", form, b"other=1"),
        Check::send("POST", "/api/notes", json, br#"{"text": "from the API"}"#),
        Check::send("POST", "/api/notes", json, br#"{"text": "#),
        Check::send("POST", "/api/notes", json, br#"{"text": 3}"#),
        Check::get("/notes"),
        // Locales, zones, hashes, gzip, a worker thread.
        Check::get("/price?locale=de-DE&zone=Europe/Berlin"),
        Check::get("/price?locale=ja-JP&zone=Asia/Tokyo&amount=98765"),
        Check::get("/price?locale=ar-EG&zone=Africa/Cairo"),
        Check::get("/price?locale=fr-FR&zone=Mars/Olympus"),
        Check::get("/hash?text=pare"),
        Check::get("/export.gz"),
        Check::get("/fib?n=25"),
        // Second commands in the running container.
        Check::exec(&["node", "/app/cli.js", "settings"]),
        Check::exec(&["node", "/app/cli.js", "render", "# Title\n\n- a\n- b"]),
        Check::exec(&["node", "/app/cli.js", "nope"]),
        Check::exec(&["node", "-p", "require('js-yaml').dump({a: [1, 2]})"]),
        Check::exec(&["node", "-p", "require('ejs').render('<%= 6 * 7 %>')"]),
        Check::exec(&[
            "node",
            "-p",
            "require('fs').readFileSync('/tmp/notes/notes.txt', 'utf8')",
        ]),
    ];
    assert!(checks.len() >= 15);
    let same = |s: &str| s.to_owned();
    let probes = ["--probe", "GET /"];
    let now = Build::new(&app.image, "pare-test/lazy:beyond-default", &probes).verified();
    let after = compare_service(&app.image, &now.tag, port, &now.seccomp(), &checks, &same);
    let old_args = [&probes[..], &["--keep", "traced", "--seccomp", "learned"]].concat();
    let old = Build::new(&app.image, "pare-test/lazy:beyond-old", &old_args).verified();
    let before_fix = compare_service(&app.image, &old.tag, port, &old.seccomp(), &checks, &same);
    print_evidence("lazy", &now, &old, &after, &before_fix);
    assert_only_known(&after, &[], "lazy");
    // The old behaviour is what the issue reported: it must not look as good, or
    // these checks do not reach beyond the probe.
    assert!(
        before_fix.same < after.same,
        "--keep traced answered {} of {} alike: the checks do not reach past GET /",
        before_fix.same,
        before_fix.total
    );
    assert_nothing_left("after the lazy builds", &before);
}
