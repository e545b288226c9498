//! Charts drawn on the server as SVG: line, horizontal bar, stacked bar and donut. No
//! script and no chart library, so they print, work without JavaScript and cost nothing to
//! ship. Colours come from the stylesheet (`.s0`…`.s5`); every mark carries a `<title>` so
//! hovering (or a screen reader) gives the exact figure.

use std::fmt::Write;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One line per series over the same x labels; a series may be drawn dashed (a comparison).
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    pub titles: Vec<String>,
    pub dashed: bool,
}

pub fn line(label: &str, x_labels: &[String], series: &[Series]) -> String {
    let (width, height, left, bottom) = (600.0, 180.0, 8.0, 24.0);
    let n = x_labels.len().max(1);
    let top = series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0_f64, f64::max).max(1.0);
    let x =
        |i: usize| left + if n == 1 { (width - left) / 2.0 } else { i as f64 * (width - 2.0 * left) / (n - 1) as f64 };
    let y = |v: f64| 8.0 + (height - bottom - 8.0) * (1.0 - v / top);
    let mut svg = format!(
        "<svg class=\"chart line\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    let _ = write!(svg, "<line class=\"axis\" x1=\"{left}\" y1=\"{0}\" x2=\"{width}\" y2=\"{0}\"/>", y(0.0));
    for (k, s) in series.iter().enumerate() {
        let points: Vec<String> =
            s.values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ = write!(
            svg,
            "<polyline class=\"s{k}{}\" fill=\"none\" points=\"{}\"><title>{}</title></polyline>",
            if s.dashed { " dashed" } else { "" },
            points.join(" "),
            escape(&s.name)
        );
        for (i, v) in s.values.iter().enumerate() {
            let title = s.titles.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(
                svg,
                "<circle class=\"s{k}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}</title></circle>",
                x(i),
                y(*v),
                escape(title)
            );
        }
    }
    if series.len() > 1 {
        for (k, s) in series.iter().enumerate() {
            let x = width - 150.0;
            let y = 12.0 + k as f64 * 14.0;
            let _ = write!(
                svg,
                "<line class=\"s{k}{}\" x1=\"{x}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{y}\">{}</text>",
                if s.dashed { " dashed" } else { "" },
                y - 4.0,
                x + 18.0,
                y - 4.0,
                x + 22.0,
                escape(&s.name)
            );
        }
    }
    // At most about eight labels under the axis.
    let step = n.div_ceil(8).max(1);
    for (i, text) in x_labels.iter().enumerate().filter(|(i, _)| i % step == 0) {
        let anchor = if i == 0 { "start" } else { "middle" };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x(i),
            height - 6.0,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, longest first as given; the value is written at the end of each bar.
pub fn bars(label: &str, items: &[(String, f64, String)]) -> String {
    let row = 22.0;
    let height = row * items.len().max(1) as f64 + 4.0;
    let top = items.iter().map(|(_, v, _)| *v).fold(0.0_f64, f64::max).max(1.0);
    let mut svg = format!(
        "<svg class=\"chart bars\" viewBox=\"0 0 600 {height}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, (name, value, shown)) in items.iter().enumerate() {
        let y = 2.0 + i as f64 * row;
        let w = (value.max(0.0) / top * 330.0).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" class=\"name\">{}</text><rect class=\"s0\" x=\"180\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"16\" rx=\"2\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            y + 12.0,
            escape(&truncate(name, 28)),
            escape(name),
            escape(shown),
            186.0 + w,
            y + 12.0,
            escape(shown)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One bar per row made of coloured parts in proportion (100 % each), with a legend.
pub fn stacked(label: &str, parts: &[String], rows: &[(String, Vec<f64>)]) -> String {
    let row = 26.0;
    let height = row * rows.len() as f64 + 26.0;
    let mut svg = format!(
        "<svg class=\"chart stacked\" viewBox=\"0 0 600 {height}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, (name, values)) in rows.iter().enumerate() {
        let y = 2.0 + i as f64 * row;
        let total: f64 = values.iter().sum();
        let _ =
            write!(svg, "<text x=\"0\" y=\"{:.1}\" class=\"name\">{}</text>", y + 13.0, escape(&truncate(name, 24)));
        let mut x = 150.0;
        for (k, v) in values.iter().enumerate() {
            let w = if total > 0.0 { v / total * 440.0 } else { 0.0 };
            if w > 0.0 {
                let percent = v / total * 100.0;
                let part = parts.get(k).map(String::as_str).unwrap_or("");
                let _ = write!(
                    svg,
                    "<rect class=\"s{k}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"18\"><title>{}: {} ({percent:.1} %)</title></rect>",
                    escape(part),
                    escape(&format_number(*v))
                );
                if w > 34.0 {
                    let _ = write!(
                        svg,
                        "<text class=\"inside\" x=\"{:.1}\" y=\"{:.1}\">{percent:.0}%</text>",
                        x + 4.0,
                        y + 13.0
                    );
                }
            }
            x += w;
        }
    }
    let y = height - 8.0;
    for (k, part) in parts.iter().enumerate() {
        let x = 150.0 + k as f64 * 110.0;
        let _ = write!(
            svg,
            "<rect class=\"s{k}\" x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\"/><text x=\"{}\" y=\"{y}\">{}</text>",
            y - 9.0,
            x + 14.0,
            escape(part)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A ring of shares with a legend beside it; small slices beyond the sixth become "other".
pub fn donut(label: &str, items: &[(String, f64)], other: &str) -> String {
    let mut slices: Vec<(String, f64)> = items.iter().filter(|(_, v)| *v > 0.0).cloned().collect();
    if slices.len() > 6 {
        let rest: f64 = slices[5..].iter().map(|(_, v)| v).sum();
        slices.truncate(5);
        slices.push((other.to_string(), rest));
    }
    let total: f64 = slices.iter().map(|(_, v)| v).sum();
    let height = (slices.len() as f64 * 20.0 + 10.0).max(150.0);
    let mut svg = format!(
        "<svg class=\"chart donut\" viewBox=\"0 0 420 {height}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    let (cx, cy, r) = (75.0, 75.0, 55.0);
    let circumference = 2.0 * std::f64::consts::PI * r;
    let mut offset = 0.0;
    for (k, (name, value)) in slices.iter().enumerate() {
        let share = if total > 0.0 { value / total } else { 0.0 };
        let length = share * circumference;
        // A dashed circle stroke draws one arc per slice, starting at twelve o'clock.
        let _ = write!(
            svg,
            "<circle class=\"s{k}\" cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"none\" stroke-width=\"26\" stroke-dasharray=\"{length:.2} {:.2}\" stroke-dashoffset=\"{:.2}\" transform=\"rotate(-90 {cx} {cy})\"><title>{}: {:.1} %</title></circle>",
            circumference - length,
            -offset,
            escape(name),
            share * 100.0
        );
        offset += length;
        let y = 14.0 + k as f64 * 20.0;
        let _ = write!(
            svg,
            "<rect class=\"s{k}\" x=\"170\" y=\"{}\" width=\"12\" height=\"12\"/><text x=\"188\" y=\"{}\">{} · {:.1}%</text>",
            y - 10.0,
            y,
            escape(&truncate(name, 26)),
            share * 100.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        text.chars().take(chars - 1).collect::<String>() + "…"
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.2}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_every_mark_has_a_title() {
        let svg = bars("Top", &[("<b>&".into(), 2.0, "2.00".into()), ("x".into(), 1.0, "1.00".into())]);
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
        assert_eq!(svg.matches("<title>").count(), 2);
        let ring = donut("Share", &[("a".into(), 3.0), ("b".into(), 1.0)], "other");
        assert!(ring.contains("a: 75.0 %") && ring.contains("b: 25.0 %"));
        let chart = line(
            "Revenue",
            &["1".into(), "2".into()],
            &[Series { name: "r".into(), values: vec![0.0, 5.0], titles: vec![], dashed: false }],
        );
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
    }

    #[test]
    fn a_donut_folds_small_slices_into_other() {
        let items: Vec<(String, f64)> = (0..9).map(|i| (format!("p{i}"), 1.0)).collect();
        let ring = donut("Share", &items, "other");
        assert_eq!(ring.matches("<circle").count(), 6);
        assert!(ring.contains("other: 44.4 %"));
    }
}
