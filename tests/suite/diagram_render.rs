//! The diagrams in a renderer that is not a browser. `rsvg-convert` (librsvg: what GNOME's image
//! viewer, many editors and converters draw SVG with) knows no CSS custom properties and treats
//! whitespace between elements its own way, so a diagram that looks right in a browser can come
//! out as a black box there, or with words run together.
//!
//! Every committed diagram, and a fresh `lesson --svg` file, is drawn to PNG by `rsvg-convert`
//! and the pixels are looked at: the background is light, each heading is ink of about its
//! text's width and nowhere else on its row, and a label made of differently coloured pieces is
//! as wide as the same words drawn in one piece. Needs `rsvg-convert` (Debian's `librsvg2-bin`,
//! which `bash scripts/test.sh` installs).

use std::process::Command;

use realtime_tutor::ui::svg::{Anchor, Scene};

use crate::common::{COMMAND_LIMIT, run_bounded};
use crate::diagrams::diagrams_dir;

/// A decoded picture: 8-bit RGBA, row by row.
struct Picture {
    width: usize,
    height: usize,
    rgba: Vec<u8>,
}

impl Picture {
    /// How dark the pixel at (`x`, `y`) is drawn over nothing: 0 (no ink) to 255 (black). A
    /// transparent pixel has no ink.
    fn ink(&self, x: usize, y: usize) -> u32 {
        let i = (y * self.width + x) * 4;
        let [r, g, b, a] = [0, 1, 2, 3].map(|k| u32::from(self.rgba[i + k]));
        let light = (r * 299 + g * 587 + b * 114) / 1000;
        (255 - light) * a / 255
    }

    /// The leftmost and rightmost columns with ink (darker than mid-grey) between rows `top` and
    /// `bottom`.
    fn ink_columns(&self, top: usize, bottom: usize) -> Option<(usize, usize)> {
        let inked = |x: usize| (top..=bottom.min(self.height - 1)).any(|y| self.ink(x, y) > 128);
        let first = (0..self.width).find(|&x| inked(x))?;
        let last = (0..self.width).rev().find(|&x| inked(x))?;
        Some((first, last))
    }
}

/// `svg` drawn by `rsvg-convert`, decoded.
fn rsvg(svg: &str) -> Picture {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("diagram.svg");
    std::fs::write(&file, svg).unwrap();
    let out = crate::common::process::try_run_bounded(
        Command::new("rsvg-convert").arg("--format=png").arg(&file),
        COMMAND_LIMIT,
    );
    let out = out.unwrap_or_else(|e| {
        panic!("rsvg-convert is not installed ({e}): run `bash scripts/test.sh`, or apt-get install -y librsvg2-bin")
    });
    assert!(
        out.status.success(),
        "rsvg-convert failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut decoder = png::Decoder::new(std::io::Cursor::new(out.stdout));
    decoder.set_transformations(png::Transformations::normalize_to_color8() | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a sensible size")];
    let frame = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(frame.color_type, png::ColorType::Rgba, "rsvg-convert writes RGBA");
    buf.truncate(frame.buffer_size());
    Picture {
        width: frame.width as usize,
        height: frame.height as usize,
        rgba: buf,
    }
}

/// Each heading (`rtd-title`) of `svg`: where its text starts, its baseline, and the text.
fn headings(svg: &str) -> Vec<(usize, usize, String)> {
    let doc = roxmltree::Document::parse(svg).expect("valid XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("rtd-title"))
        .map(|n| {
            let at = |a: &str| n.attribute(a).and_then(|v| v.parse().ok()).expect("x and y");
            let text = n
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect();
            (at("x"), at("y"), text)
        })
        .collect()
}

/// What every picture of a diagram must show in `rsvg-convert`; `name` says which one failed.
fn assert_drawn(name: &str, svg: &str) {
    let picture = rsvg(svg);
    // The background, in the left margin halfway down: painted, and white.
    let (x, y) = (8, picture.height / 2);
    let i = (y * picture.width + x) * 4;
    assert_eq!(
        picture.rgba[i..i + 4],
        [255, 255, 255, 255],
        "{name}: the background at ({x}, {y}) is not white: an SVG renderer without CSS variables paints it black"
    );
    // Most of the picture is light: the shapes and words are drawn on the background, not the
    // other way round.
    // (Every third pixel of every third row: plenty for a share, and quick.)
    let sampled: Vec<(usize, usize)> = (0..picture.height)
        .step_by(3)
        .flat_map(|y| (0..picture.width).step_by(3).map(move |x| (x, y)))
        .collect();
    let light = sampled.iter().filter(|&&(x, y)| picture.ink(x, y) < 64).count();
    let share = light * 100 / sampled.len();
    assert!(share >= 60, "{name}: only {share}% of the picture is light");
    // Each heading: ink from where its text starts, about as wide as its characters, and none
    // in the margin before it.
    let found = headings(svg);
    assert!(!found.is_empty(), "{name}: no heading");
    for (x, baseline, text) in found {
        let (first, last) = picture
            .ink_columns(baseline - 10, baseline + 2)
            .unwrap_or_else(|| panic!("{name}: no ink where the heading {text:?} is"));
        let chars = text.chars().count();
        // 13px bold monospace: an advance of about 7.8 pixels a character.
        let (least, most) = (chars * 70 / 10, chars * 82 / 10);
        let wide = last - first + 1;
        assert!(
            first + 1 >= x && first <= x + 3,
            "{name}: the heading {text:?} starts at x = {first}, not at {x}"
        );
        assert!(
            (least..=most).contains(&wide),
            "{name}: the heading {text:?} ({chars} characters) is {wide} pixels wide, not {least} to {most}"
        );
    }
}

#[test]
fn rsvg_draws_every_committed_diagram_light_with_its_words_laid_out() {
    let mut drawn = 0;
    let mut files: Vec<_> = std::fs::read_dir(diagrams_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    files.sort();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert_drawn(&name, &std::fs::read_to_string(file).unwrap());
        drawn += 1;
    }
    assert!(
        drawn >= 20,
        "only {drawn} diagrams in {}",
        diagrams_dir().display()
    );
}

#[test]
fn rsvg_draws_a_fresh_lesson_svg_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lesson-3.svg");
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["lesson", "3", "--no-pause", "--svg"])
            .arg(&file)
            .env("NO_COLOR", "1"),
        COMMAND_LIMIT,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&file).unwrap();
    assert_eq!(headings(&svg).len(), 2, "both stages of lesson 3");
    assert_drawn("lesson 3 --svg", &svg);
}

#[test]
fn a_label_in_coloured_pieces_is_as_wide_as_the_same_words_in_one_piece() {
    // A label whose pieces end or start with a space: renderers that drop whitespace at the
    // edge of a piece run the words together ("runsio.emit").
    let rows: [&[(Option<&str>, &str)]; 4] = [
        &[(Some("rtd-dim"), "runs "), (Some("rtd-code"), "io.emit('hi')")],
        &[(None, "runs io.emit('hi')")],
        &[(Some("rtd-dim"), "#2"), (None, " 'chat message' \"a  b\"")],
        &[(None, "#2 'chat message' \"a  b\"")],
    ];
    let mut scene = Scene::default();
    for (i, pieces) in rows.iter().enumerate() {
        scene.text((16, 30 + 30 * i as i32), Anchor::Start, "rtd-label", pieces, None);
    }
    let picture = rsvg(&scene.finish("pieces", 16));
    let widths: Vec<usize> = (0..rows.len())
        .map(|i| {
            let baseline = 30 + 30 * i;
            let (first, last) = picture.ink_columns(baseline - 10, baseline + 3).expect("ink");
            last - first + 1
        })
        .collect();
    for pair in widths.chunks(2) {
        assert!(
            pair[0].abs_diff(pair[1]) <= 1,
            "pieces and one run differ in width: {widths:?} (a space was lost)"
        );
    }
}
