//! Horizontal bar charts as inline SVG, for the compare, diff and build pages.
//!
//! Hand-written: the charts are a few dozen rectangles, and the chart crates draw
//! through backends that want fonts or a canvas; plain SVG opens anywhere, prints,
//! and needs no script.

use std::fmt::Write as _;

/// One series: what it is and its colour.
pub struct Series {
    pub name: &'static str,
    pub colour: &'static str,
}

/// Bars per row, side by side (`stacked: false`) or stacked into one.
pub struct BarChart<'a> {
    pub title: &'a str,
    pub series: Vec<Series>,
    /// A label and one value per series.
    pub rows: Vec<(String, Vec<u64>)>,
    pub stacked: bool,
    /// How a value is written (`12.3 MB`, `42`).
    pub format: fn(u64) -> String,
}

const LABEL_WIDTH: f64 = 230.0;
const BAR_AREA: f64 = 520.0;
const VALUE_WIDTH: f64 = 110.0;
const BAR_HEIGHT: f64 = 16.0;
const ROW_GAP: f64 = 10.0;
const TOP: f64 = 48.0;

impl BarChart<'_> {
    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let per_row = if self.stacked {
            1
        } else {
            self.series.len().max(1)
        };
        let row_height = per_row as f64 * BAR_HEIGHT + ROW_GAP;
        let height = TOP + self.rows.len() as f64 * row_height + 8.0;
        let width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH;
        let max = self
            .rows
            .iter()
            .map(|(_, v)| {
                if self.stacked {
                    v.iter().sum()
                } else {
                    v.iter().copied().max().unwrap_or(0)
                }
            })
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}">"#,
            escape(self.title)
        );
        let _ = write!(
            s,
            r#"<text x="0" y="16" class="chart-title">{}</text>"#,
            escape(self.title)
        );
        let mut x = LABEL_WIDTH;
        for series in &self.series {
            let _ = write!(
                s,
                r#"<rect x="{x}" y="26" width="12" height="12" fill="{}"/><text x="{}" y="37" class="chart-legend">{}</text>"#,
                series.colour,
                x + 16.0,
                escape(series.name)
            );
            x += 24.0 + 7.5 * series.name.len() as f64;
        }
        for (i, (label, values)) in self.rows.iter().enumerate() {
            let y = TOP + i as f64 * row_height;
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>"#,
                LABEL_WIDTH - 8.0,
                y + per_row as f64 * BAR_HEIGHT / 2.0 + 4.0,
                escape(&super::super::truncate(label, 34))
            );
            let mut offset = 0.0;
            for (j, value) in values.iter().enumerate() {
                let w = *value as f64 / max * BAR_AREA;
                let (bx, by) = if self.stacked {
                    (LABEL_WIDTH + offset, y)
                } else {
                    (LABEL_WIDTH, y + j as f64 * BAR_HEIGHT)
                };
                let colour = self.series.get(j).map_or("#888", |s| s.colour);
                let name = self.series.get(j).map_or("", |s| s.name);
                let _ = write!(
                    s,
                    r#"<rect class="bar" x="{bx:.1}" y="{by:.1}" width="{w:.1}" height="{}" fill="{colour}"><title>{}: {} {}</title></rect>"#,
                    BAR_HEIGHT - 2.0,
                    escape(label),
                    escape(name),
                    (self.format)(*value)
                );
                if !self.stacked {
                    let _ = write!(
                        s,
                        r#"<text x="{:.1}" y="{:.1}" class="chart-value">{}</text>"#,
                        bx + w + 4.0,
                        by + BAR_HEIGHT - 4.0,
                        (self.format)(*value)
                    );
                }
                offset += w;
            }
            if self.stacked {
                let total: u64 = values.iter().sum();
                let _ = write!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" class="chart-value">{}</text>"#,
                    LABEL_WIDTH + offset + 4.0,
                    y + BAR_HEIGHT - 4.0,
                    (self.format)(total)
                );
            }
        }
        s.push_str("</svg>");
        s
    }
}

/// Text for SVG/HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Charts one above the other in one standalone SVG document.
pub fn stack(charts: &[String]) -> String {
    let mut y = 0.0;
    let mut width: f64 = 0.0;
    let mut body = String::new();
    for chart in charts {
        let (w, h) = size_of(chart);
        let _ = write!(
            body,
            r#"<g transform="translate(0 {y})">{}</g>"#,
            chart.replacen("<svg class=\"chart\"", "<svg", 1)
        );
        y += h + 20.0;
        width = width.max(w);
    }
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" width="{width}" height="{y}" font-family="DejaVu Sans, sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/>{body}</svg>
"##
    )
}

/// The `width` and `height` attributes of a chart made by [`BarChart::svg`].
fn size_of(svg: &str) -> (f64, f64) {
    let attr = |name: &str| {
        svg.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (attr("width"), attr("height"))
}
