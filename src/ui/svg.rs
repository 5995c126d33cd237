//! A small SVG writer: shapes and text at integer coordinates, escaped, in the order drawn.
//!
//! Written by hand rather than with an SVG crate because what the diagrams need is small (lines,
//! paths, rectangles, text) and two properties matter more than convenience: every piece of text
//! passes through one escaping function, and the output is the same bytes for the same input
//! (integer coordinates, no floating-point formatting, no generated ids).
//!
//! Two more properties matter because a diagram is a file people open in anything, not only in a
//! browser (an image viewer, an editor, `rsvg-convert`, Inkscape), and those renderers know less
//! CSS than a browser:
//!
//! * the colours are plain CSS colours, no custom properties (`var()`), which most non-browser
//!   renderers do not understand and would paint black. The light palette is the default; the
//!   dark one overrides it inside `@media (prefers-color-scheme: dark)`, which a renderer without
//!   media queries skips, and, when the SVG sits inline in the book, by mdBook's theme class on
//!   `<html>` (so a dark book theme on a light system still gets the dark palette);
//! * spaces in a label do not depend on how a renderer treats whitespace between elements: the
//!   whole document is `xml:space="preserve"` (what `rsvg-convert` and Inkscape honour) and its
//!   text `white-space: pre` (what browsers honour), so `runs ` in one colour followed by code in
//!   another keeps its space everywhere, and so do two spaces in a chat message.

use std::fmt::Write;

use crate::trace::safe::is_unsafe;

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

/// The same estimate for a stage's heading (`rtd-title`: 13px and bold, a little wider than
/// 13/12 of the body font), so a long heading does not run off the picture's right edge.
const TITLE_TENTHS: usize = 82;

/// The width in pixels that `text` takes when drawn with `class`.
fn width_in(class: &str, text: &str) -> i32 {
    let tenths = if class.split(' ').any(|c| c == "rtd-title") {
        TITLE_TENTHS
    } else {
        CHAR_TENTHS
    };
    (text.chars().count() * tenths).div_ceil(10) as i32
}

/// Text that came from a trace, made safe for XML. Markup characters become entities, so a chat
/// message is always text and never markup (`<script>`, `]]>`, quotes). Characters XML 1.0 does
/// not allow at all (control characters, U+FFFE, U+FFFF) are written out as visible escapes
/// (`\u{1b}`), and so is everything the terminal and JSON outputs escape
/// ([`crate::trace::safe::is_unsafe`]): the bidirectional marks, overrides and isolates, which
/// would reorder the text on screen, and the line and paragraph separators, which a viewer may
/// break the line at. `{` is written as an entity too, so no text can form an mdBook directive
/// when the SVG is included in a chapter.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            c if is_unsafe(c) || c == '\u{fffe}' || c == '\u{ffff}' => {
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
        let width = pieces.iter().map(|(_, t)| width_in(class, t)).sum::<i32>();
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
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="{ROOT_CLASS}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xml:space="preserve" role="img" style="max-width:100%;height:auto">"#
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

/// The colours: (name, light value, dark value). Each pair was picked for contrast against its
/// own background, which the SVG paints itself.
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

/// The style rules: a selector (under the root class), the declarations that are the same in
/// every theme, and which property takes which colour of the [`PALETTE`].
type Rule = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const RULES: &[Rule] = &[
    (
        "text",
        "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"DejaVu Sans Mono\",monospace;font-size:12px;white-space:pre",
        &[("fill", "fg")],
    ),
    (".rtd-bg", "", &[("fill", "bg")]),
    (".rtd-title", "font-weight:bold;font-size:13px", &[]),
    (".rtd-caption", "", &[("fill", "dim")]),
    (".rtd-rule", "stroke-width:1", &[("stroke", "head")]),
    (".rtd-head", "", &[("fill", "head"), ("stroke", "lane")]),
    (".rtd-name", "font-weight:bold", &[]),
    (".rtd-life", "stroke-width:1.5", &[("stroke", "lane")]),
    (
        ".rtd-absent",
        "stroke-width:1;stroke-dasharray:2 4",
        &[("stroke", "lane")],
    ),
    (".rtd-joined", "", &[("fill", "lane")]),
    (
        ".rtd-label",
        "paint-order:stroke;stroke-width:4px;stroke-linejoin:round",
        &[("stroke", "bg")],
    ),
    (".rtd-send", "stroke-width:1.5", &[("stroke", "send")]),
    (".rtd-send-head", "", &[("fill", "send")]),
    (".rtd-deliver", "stroke-width:1.5", &[("stroke", "ok")]),
    (".rtd-deliver-head", "", &[("fill", "ok")]),
    (
        ".rtd-reply",
        "stroke-width:1.5;stroke-dasharray:5 3",
        &[("stroke", "dim")],
    ),
    (".rtd-reply-head", "", &[("fill", "dim")]),
    (
        ".rtd-ignored",
        "stroke-width:1;stroke-dasharray:1 3",
        &[("stroke", "dim")],
    ),
    (".rtd-ignored-head", "", &[("fill", "dim")]),
    (".rtd-cross", "stroke-width:2.5", &[("stroke", "no")]),
    (".rtd-no", "", &[("fill", "no")]),
    (".rtd-ok", "", &[("fill", "ok")]),
    (".rtd-dim", "", &[("fill", "dim")]),
    (".rtd-code-box", "", &[("fill", "code-bg"), ("stroke", "code")]),
    (".rtd-code", "", &[("fill", "code")]),
];

/// mdBook's theme classes on `<html>`, as a selector: the light ones, then the dark ones. A
/// renderer that does not know `:is()` drops these rules, which only matter inside the book.
const BOOK_LIGHT: &str = ":is(html.light,html.rust)";
const BOOK_DARK: &str = ":is(html.coal,html.navy,html.ayu)";

/// `fill:#…;stroke:#…`: the painted properties of a rule in one theme.
fn paints(paint: &[(&str, &str)], dark: bool) -> String {
    let colour = |name: &str| {
        PALETTE.iter().find(|(n, ..)| *n == name).map_or(
            "currentColor",
            |(_, light, night)| if dark { night } else { light },
        )
    };
    paint
        .iter()
        .map(|(property, name)| format!("{property}:{}", colour(name)))
        .collect::<Vec<_>>()
        .join(";")
}

/// The style sheet inside every diagram: every rule with the light colours, then the colours
/// alone again for the dark system theme, the light book themes and the dark ones. No blank
/// lines: mdBook passes an inline SVG through as one HTML block, and a blank line would end that
/// block.
fn style() -> String {
    let r = format!("svg.{ROOT_CLASS}");
    let mut css = String::from("<style>\n");
    for (selector, fixed, paint) in RULES {
        let colours = paints(paint, false);
        let sep = if fixed.is_empty() || colours.is_empty() {
            ""
        } else {
            ";"
        };
        let _ = writeln!(css, "{r} {selector}{{{fixed}{sep}{colours}}}");
    }
    let painted = || RULES.iter().filter(|(_, _, paint)| !paint.is_empty());
    css.push_str("@media (prefers-color-scheme: dark){\n");
    for (selector, _, paint) in painted() {
        let _ = writeln!(css, "{r} {selector}{{{}}}", paints(paint, true));
    }
    css.push_str("}\n");
    for (book, dark) in [(BOOK_LIGHT, false), (BOOK_DARK, true)] {
        for (selector, _, paint) in painted() {
            let _ = writeln!(css, "{book} {r} {selector}{{{}}}", paints(paint, dark));
        }
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
        for line in css
            .lines()
            .filter(|l| l.contains('{') && !l.starts_with("@media"))
        {
            assert!(line.contains("svg.rt-diagram "), "unscoped rule: {line}");
        }
    }

    #[test]
    fn the_colours_are_plain_with_the_dark_ones_as_overrides() {
        let css = style();
        // No custom properties: a renderer without them would paint every shape black.
        assert!(!css.contains("var(") && !css.contains("--"), "{css}");
        let (light, rest) = css.split_once("@media (prefers-color-scheme: dark){").unwrap();
        let (dark, books) = rest.split_once("\n}\n").unwrap();
        for (name, day, night) in PALETTE {
            assert!(light.contains(day), "{name}: the light {day} is a default");
            assert!(
                !light.contains(night),
                "{name}: the dark {night} is not a default"
            );
            assert!(dark.contains(night) && !dark.contains(day), "{name}");
            assert!(books.contains(day) && books.contains(night), "{name}");
        }
        // Every colour a rule names is in the palette.
        for (selector, _, paint) in RULES {
            for (_, name) in *paint {
                assert!(PALETTE.iter().any(|(n, ..)| n == name), "{selector}: {name}");
            }
        }
    }

    #[test]
    fn separators_and_every_bidirectional_mark_are_visible_escapes() {
        for c in [
            '\u{061c}', '\u{200e}', '\u{202e}', '\u{2067}', '\u{2028}', '\u{2029}', '\u{85}',
        ] {
            assert_eq!(
                escape(&format!("a{c}b")),
                format!("a\\u{{{:x}}}b", u32::from(c)),
                "U+{:04X}",
                u32::from(c)
            );
        }
        let mut scene = Scene::default();
        scene.text(
            (0, 10),
            Anchor::Start,
            "rtd-label",
            &[
                (Some("rtd-dim"), "line\u{2028}"),
                (None, "para\u{2029}mark\u{61c}"),
            ],
            Some("whole\u{2028}"),
        );
        let svg = scene.finish("title\u{2029}", 8);
        for raw in ['\u{061c}', '\u{2028}', '\u{2029}'] {
            assert!(!svg.contains(raw), "U+{:04X} written raw", u32::from(raw));
        }
        assert!(
            svg.contains(r"line\u{2028}</tspan>para\u{2029}mark\u{61c}</text>"),
            "{svg}"
        );
        assert!(svg.contains(r"<title>whole\u{2028}</title>"), "{svg}");
        assert!(svg.contains(r"<title>title\u{2029}</title>"), "{svg}");
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
