//! Self-contained HTML reports (`--html FILE`) for xray, diff, compare and build: one
//! file with its CSS, scripts, data and SVG inline, so it opens from `file://` with no
//! network. Pages are minijinja templates (`templates/`) filled from the report
//! types; the scripts (`assets/`) are hand-written: a squarified treemap and a
//! searchable file tree need no library.
//!
//! The page's Content-Security-Policy allows its one `<style>` and one `<script>` by
//! their SHA-256 hashes and nothing else inline (no `'unsafe-inline'`, no `style=`
//! attributes, no handlers): were a report's text ever to slip past the escaping,
//! what it injects would not run.

pub mod build;
pub mod chart;
pub mod compare;
pub mod diff;
pub mod xray;

use minijinja::Environment;
use serde::Serialize;

/// Layer colours, in order; the treemap and the layer list share them.
pub const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#86bcb6", "#d37295",
];

/// Severity colours, worst first (critical … unknown).
pub const SEVERITY_COLOURS: [&str; 6] = [
    "#7f0000", "#d62728", "#ff7f0e", "#e6c229", "#9aa5b1", "#c7c7c7",
];

/// The templates, loaded once.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("xray.html", include_str!("templates/xray.html")),
        ("diff.html", include_str!("templates/diff.html")),
        ("compare.html", include_str!("templates/compare.html")),
        ("build.html", include_str!("templates/build.html")),
        ("changes.html", include_str!("templates/changes.html")),
    ] {
        // The templates are part of the binary; a syntax error is caught by the tests.
        if let Err(e) = env.add_template(name, text) {
            panic!("template {name}: {e}");
        }
    }
    env.add_filter("bytes", |n: u64| crate::units::bytes(n));
    env.add_filter("count", |n: u64| crate::units::count(n));
    env
}

/// The assets every page inlines.
#[derive(Serialize)]
struct Assets {
    css: &'static str,
    script: &'static str,
}

const ASSETS: Assets = Assets {
    css: include_str!("assets/pare.css"),
    script: include_str!("assets/pare.js"),
};

/// The page's stylesheet: the CSS asset and a `layer-N` class per palette colour.
fn style() -> String {
    let mut css = ASSETS.css.to_owned();
    for (i, colour) in PALETTE.iter().enumerate() {
        css.push_str(&format!(".layer-{i} {{ background: {colour}; }}\n"));
    }
    css
}

/// The Content-Security-Policy sources of the inline style and script.
#[derive(Serialize)]
struct Csp {
    style: String,
    script: String,
}

/// `sha256-BASE64` of `text`, as a CSP source names an inline element.
fn csp_hash(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Renders `template` with `context` (and the assets, the version and the palette).
fn page(template: &str, context: impl Serialize) -> anyhow::Result<String> {
    let env = environment();
    let tmpl = env.get_template(template)?;
    let style = style();
    let csp = Csp {
        style: csp_hash(&style),
        script: csp_hash(ASSETS.script),
    };
    Ok(tmpl.render(minijinja::context! {
        assets => ASSETS,
        style => style,
        csp => csp,
        version => env!("CARGO_PKG_VERSION"),
        palette => PALETTE,
        ..minijinja::Value::from_serialize(&context)
    })?)
}

/// JSON for a `<script type="application/json">` element: `<` is written as `\u003c`
/// so that no string in the data can close the element.
pub fn script_json(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)?.replace('<', "\\u003c"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_cannot_close_its_script_element() {
        let json = super::script_json(&vec!["</script><script>alert(1)"]).unwrap();
        assert!(!json.contains("</"), "{json}");
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)");
    }
}
