//! What an HTML page allows: its Content-Security-Policy lets its own style and script
//! run by their hashes and nothing else inline, so markup that an escaping bug would
//! let into a report does not run; and the page is readable by those it is shared
//! with (0666 less the umask, as any file the user writes).

mod support;

use std::os::unix::fs::PermissionsExt;

use support::chromium::Browser;
use support::{pare, temp_dir, test_image, umask};

#[test]
fn injected_markup_does_not_run_and_the_page_is_shared_readable() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let dir = temp_dir();
    let page = dir.path().join("cli.html");
    pare(&["xray", &cli.oci_ref(), "--html", page.to_str().unwrap()]).success();
    let mode = std::fs::metadata(&page).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask(), "{mode:o}");

    let html = std::fs::read_to_string(&page).unwrap();
    let csp = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSP");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        csp.contains("script-src 'sha256-") && csp.contains("style-src 'sha256-"),
        "{csp}"
    );

    // The page itself: its script runs (the treemap is drawn) and breaks no rule.
    let mut browser = Browser::start();
    browser.open(&page);
    let drawn = browser.eval("document.querySelectorAll('#treemap rect').length");
    assert!(
        drawn.as_u64().unwrap() > 0,
        "the page's script ran: {drawn}"
    );
    assert!(browser.problems.is_empty(), "{:#?}", browser.problems);

    // What an escaping bug would let in: an inline script, a handler, a style.
    let injected = dir.path().join("injected.html");
    std::fs::write(
        &injected,
        html.replace(
            "</main>",
            "<script>document.title = 'injected';</script>\
             <img id=\"x\" src=\"data:,\" onerror=\"document.title = 'handler'\">\
             <p id=\"styled\" style=\"color: rgb(255, 0, 0)\">x</p></main>",
        ),
    )
    .unwrap();
    browser.open(&injected);
    let title = browser.eval("document.title");
    assert!(
        !matches!(title.as_str(), Some("injected" | "handler")),
        "injected script ran: {title}"
    );
    let colour = browser.eval("getComputedStyle(document.getElementById('styled')).color");
    assert_ne!(colour, "rgb(255, 0, 0)", "an injected style applied");
    let drawn = browser.eval("document.querySelectorAll('#treemap rect').length");
    assert!(
        drawn.as_u64().unwrap() > 0,
        "the page's own script still ran"
    );
}
