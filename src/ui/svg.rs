//! A small SVG writer: shapes and text at integer coordinates, escaped, in the order drawn.
//!
//! Written by hand rather than with an SVG crate because what the diagrams need is small (lines,
//! paths, rectangles, text) and two properties matter more than convenience: every piece of text
//! passes through one escaping function, and the output is the same bytes for the same input
//! (integer coordinates, no floating-point formatting, no generated ids).
//!
//! The picture carries its own colours as CSS custom properties in a `<style>` inside the SVG,
//! chosen by `prefers-color-scheme` and, when the SVG sits inline in the book, by mdBook's theme
//! class on `<html>` (so a dark book theme on a light system still gets the dark palette).

use std::fmt::Write;

/// The class on the root `<svg>`; every rule of the style sheet is scoped under it, so an SVG
/// inlined in a page styles nothing else on that page.
pub const ROOT_CLASS: &str = "rt-diagram";

/// The estimated advance of one character of the diagram's 12px monospace font, in tenths of a
/// pixel. Generous on purpose: a label measured too long only leaves a little space; one measured
/// too short would run off the picture.
const CHAR_TENTHS: usize = 75;

/// The width in pixels that `text` takes in the diagram's font (an estimate, see above).
pub fn text_width(text: &str) -> i32 {
    (text.chars().count() * CHAR_TENTHS).div_ceil(10) as i32
}

/// Text that came from a trace, made safe for XML. Markup characters become entities, so a chat
/// message is always text and never markup (`<script>`, `]]>`, quotes). Characters XML 1.0 does
/// not allow at all (control characters, U+FFFE, U+FFFF) and the bidirectional overrides (which
/// would reorder the text on screen) are written out as visible escapes (`\u{1b}`). `{` is
/// written as an entity too, so no text can form an mdBook directive when the SVG is included in
/// a chapter.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            c if c.is_control() || bidi || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// How a run of text is anchored at its `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
}

/// A picture being drawn: elements in drawing order, and how far they reach.
#[derive(Debug, Default)]
pub struct Scene {
    body: String,
    right: i32,
    bottom: i32,
}

impl Scene {
    fn reach(&mut self, x: i32, y: i32) {
        self.right = self.right.max(x);
        self.bottom = self.bottom.max(y);
    }

    /// A straight line.
    pub fn line(&mut self, (x1, y1): (i32, i32), (x2, y2): (i32, i32), class: &str) {
        self.reach(x1.max(x2), y1.max(y2));
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>"#
        );
        self.body.push('\n');
    }

    /// A closed polygon through `points`.
    pub fn polygon(&mut self, points: &[(i32, i32)], class: &str) {
        let mut d = String::new();
        for (x, y) in points {
            self.reach(*x, *y);
            let _ = write!(d, "{}{x},{y}", if d.is_empty() { "" } else { " " });
        }
        let _ = writeln!(self.body, r#"<polygon class="{class}" points="{d}"/>"#);
    }

    /// A rectangle with rounded corners.
    pub fn rect(&mut self, (x, y): (i32, i32), (w, h): (i32, i32), class: &str) {
        self.reach(x + w, y + h);
        let _ = writeln!(
            self.body,
            r#"<rect class="{class}" x="{x}" y="{y}" width="{w}" height="{h}" rx="4"/>"#
        );
    }

    /// A small filled circle.
    pub fn dot(&mut self, (x, y): (i32, i32), r: i32, class: &str) {
        self.reach(x + r, y + r);
        let _ = writeln!(
            self.body,
            r#"<circle class="{class}" cx="{x}" cy="{y}" r="{r}"/>"#
        );
    }

    /// One line of text made of pieces, each with its own class (`None`: the text's own). The
    /// text stays text in the SVG: selectable, searchable, read by screen readers. `full`, when
    /// given, is the whole text of a label that was shortened, shown as a tooltip.
    pub fn text(
        &mut self,
        (x, y): (i32, i32),
        anchor: Anchor,
        class: &str,
        pieces: &[(Option<&str>, &str)],
        full: Option<&str>,
    ) {
        let width = pieces.iter().map(|(_, t)| text_width(t)).sum::<i32>();
        let (right, anchor_attr) = match anchor {
            Anchor::Start => (x + width, ""),
            Anchor::Middle => (x + width / 2, r#" text-anchor="middle""#),
        };
        self.reach(right, y + 4);
        let _ = write!(
            self.body,
            r#"<text class="{class}" x="{x}" y="{y}"{anchor_attr}>"#
        );
        if let Some(full) = full {
            let _ = write!(self.body, "<title>{}</title>", escape(full));
        }
        for (piece_class, piece) in pieces.iter().filter(|(_, t)| !t.is_empty()) {
            match piece_class {
                Some(c) => {
                    let _ = write!(self.body, r#"<tspan class="{c}">{}</tspan>"#, escape(piece));
                }
                None => self.body.push_str(&escape(piece)),
            }
        }
        self.body.push_str("</text>\n");
    }

    /// Draws everything of `other` on top of what is here.
    pub fn append(&mut self, other: Scene) {
        self.reach(other.right, other.bottom);
        self.body.push_str(&other.body);
    }

    /// The rightmost point drawn so far.
    pub fn right(&self) -> i32 {
        self.right
    }

    /// The lowest point drawn so far.
    pub fn bottom(&self) -> i32 {
        self.bottom
    }

    /// The whole SVG document, `margin` pixels of background around everything drawn. `title`
    /// names the picture for screen readers and as the document's title.
    pub fn finish(self, title: &str, margin: i32) -> String {
        let (w, h) = (self.right + margin, self.bottom + margin);
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="{ROOT_CLASS}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" style="max-width:100%;height:auto">"#
        );
        let _ = writeln!(out, "<title>{}</title>", escape(title));
        out.push_str(&style());
        let _ = writeln!(
            out,
            r#"<rect class="rtd-bg" x="0" y="0" width="{w}" height="{h}" rx="6"/>"#
        );
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

/// The colours, light then dark: (custom property, light value, dark value). Each pair was
/// picked for contrast against its own background, which the SVG paints itself.
const PALETTE: &[(&str, &str, &str)] = &[
    ("bg", "#ffffff", "#1e2227"),
    ("fg", "#1f2328", "#e6edf3"),
    ("dim", "#57606a", "#9da7b3"),
    ("lane", "#8c959f", "#6e7681"),
    ("head", "#eaeef2", "#2d333b"),
    ("send", "#0550ae", "#79c0ff"),
    ("ok", "#1a7f37", "#56d364"),
    ("no", "#cf222e", "#ff7b72"),
    ("code-bg", "#fff8c5", "#3b3520"),
    ("code", "#6e4a00", "#e3b341"),
];

/// mdBook's theme classes on `<html>`: the light ones, then the dark ones.
const BOOK_LIGHT: &[&str] = &["light", "rust"];
const BOOK_DARK: &[&str] = &["coal", "navy", "ayu"];

fn palette(dark: bool) -> String {
    PALETTE
        .iter()
        .map(|(name, light, night)| format!("--rtd-{name}:{};", if dark { night } else { light }))
        .collect()
}

fn book_selector(themes: &[&str]) -> String {
    themes
        .iter()
        .map(|t| format!("html.{t} svg.{ROOT_CLASS}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The style sheet inside every diagram. No blank lines: mdBook passes an inline SVG through as
/// one HTML block, and a blank line would end that block.
fn style() -> String {
    let r = format!("svg.{ROOT_CLASS}");
    let mut css = String::from("<style>\n");
    let _ = writeln!(css, "{r}{{{}}}", palette(false));
    let _ = writeln!(
        css,
        "@media (prefers-color-scheme: dark){{{r}{{{}}}}}",
        palette(true)
    );
    let _ = writeln!(css, "{}{{{}}}", book_selector(BOOK_LIGHT), palette(false));
    let _ = writeln!(css, "{}{{{}}}", book_selector(BOOK_DARK), palette(true));
    for rule in [
        "text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"DejaVu Sans Mono\",monospace;font-size:12px;fill:var(--rtd-fg)}",
        ".rtd-bg{fill:var(--rtd-bg)}",
        ".rtd-title{font-weight:bold;font-size:13px}",
        ".rtd-caption{fill:var(--rtd-dim)}",
        ".rtd-rule{stroke:var(--rtd-head);stroke-width:1}",
        ".rtd-head{fill:var(--rtd-head);stroke:var(--rtd-lane)}",
        ".rtd-name{font-weight:bold}",
        ".rtd-life{stroke:var(--rtd-lane);stroke-width:1.5}",
        ".rtd-absent{stroke:var(--rtd-lane);stroke-width:1;stroke-dasharray:2 4}",
        ".rtd-joined{fill:var(--rtd-lane)}",
        ".rtd-label{paint-order:stroke;stroke:var(--rtd-bg);stroke-width:4px;stroke-linejoin:round}",
        ".rtd-send{stroke:var(--rtd-send);stroke-width:1.5}",
        ".rtd-send-head{fill:var(--rtd-send)}",
        ".rtd-deliver{stroke:var(--rtd-ok);stroke-width:1.5}",
        ".rtd-deliver-head{fill:var(--rtd-ok)}",
        ".rtd-reply{stroke:var(--rtd-dim);stroke-width:1.5;stroke-dasharray:5 3}",
        ".rtd-reply-head{fill:var(--rtd-dim)}",
        ".rtd-ignored{stroke:var(--rtd-dim);stroke-width:1;stroke-dasharray:1 3}",
        ".rtd-ignored-head{fill:var(--rtd-dim)}",
        ".rtd-cross{stroke:var(--rtd-no);stroke-width:2.5}",
        ".rtd-no{fill:var(--rtd-no)}",
        ".rtd-ok{fill:var(--rtd-ok)}",
        ".rtd-dim{fill:var(--rtd-dim)}",
        ".rtd-code-box{fill:var(--rtd-code-bg);stroke:var(--rtd-code)}",
        ".rtd-code{fill:var(--rtd-code)}",
    ] {
        let _ = writeln!(css, "{r} {rule}");
    }
    css.push_str("</style>\n");
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_never_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> ]]> 'q' & {{#include x}}"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; ]]&gt; &#39;q&#39; &amp; &#123;&#123;#include x}}"
        );
        assert_eq!(
            escape("a\u{1b}[31m\u{0}\u{202e}\u{ffff}"),
            "a\\u{1b}[31m\\u{0}\\u{202e}\\u{ffff}"
        );
        assert_eq!(escape("héllo ✓"), "héllo ✓");
    }

    #[test]
    fn the_style_sheet_has_no_blank_line_and_is_scoped() {
        let css = style();
        assert!(!css.contains("\n\n"), "{css}");
        for line in css.lines().filter(|l| l.contains('{')) {
            assert!(line.contains("svg.rt-diagram"), "unscoped rule: {line}");
        }
    }

    #[test]
    fn a_scene_reaches_as_far_as_it_draws() {
        let mut scene = Scene::default();
        scene.line((0, 0), (100, 40), "rtd-life");
        scene.text((10, 60), Anchor::Start, "rtd-label", &[(None, "abcd")], None);
        let svg = scene.finish("t", 8);
        assert!(svg.contains(r#"width="108" height="72""#), "{svg}");
    }
}
