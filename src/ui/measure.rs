//! A measurement stage's figures (lesson 10), after its steps.
//!
//! Counted figures (frames, bytes, deliveries, encodings) and measured ones (times, rates,
//! memory) are printed in separate tables, so a reader sees at once which part is the same on
//! every machine. The measured ones always have a unit of their own (`ms`, `/s`, `KB`) that no
//! counted figure uses: the test suite masks them by those units, and only them.

use std::fmt::Write;

use super::style::{self, INDENT};
use crate::trace::measure::{EncodeRow, FanoutRow, Measurement, Timing, VolatileFigures};

/// The figures of `measurement`, every line at most `width` columns (predict mode shows them
/// after its question).
pub fn measurement_at(measurement: &Measurement, width: usize) -> String {
    let mut out = String::new();
    render(&mut out, measurement, width);
    out
}

/// Writes the figures of `measurement`.
pub fn render(out: &mut String, measurement: &Measurement, width: usize) {
    match measurement {
        Measurement::Fanout { rows } => fanout(out, rows),
        Measurement::Volatile(figures) => volatile(out, figures, width),
        Measurement::EncodeOnce { rows } => encode(out, rows),
    }
}

/// `1,000`: thousands separated, as the lesson's prose writes them.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A time in milliseconds, with its unit: `0.214 ms`, `12.3 ms`.
pub fn millis(t: Timing) -> String {
    let ms = t.micros as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.3} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// A list read aloud: `10, 100 and 1,000`.
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn fanout(out: &mut String, rows: &[FanoutRow]) {
    let Some(first) = rows.first() else { return };
    let same_audience = rows.iter().all(|r| r.clients == first.clients);
    let heading = if same_audience {
        let sizes: Vec<String> = rows.iter().map(|r| thousands(r.message_bytes as u64)).collect();
        format!(
            "io.emit to {} clients: a message of {} bytes, {} times each",
            thousands(first.clients as u64),
            listed(&sizes),
            first.emits
        )
    } else {
        let sizes: Vec<String> = rows.iter().map(|r| thousands(r.clients as u64)).collect();
        format!(
            "io.emit('chat message', msg) to {} clients, {} times each",
            listed(&sizes),
            first.emits
        )
    };
    let _ = writeln!(out, "{INDENT}{} {}", style::strong("▸"), heading);
    let _ = writeln!(out, "{INDENT}  {}", style::note("counted: the same on every run"));
    let lead = if same_audience { "message" } else { "clients" };
    let _ = writeln!(
        out,
        "{INDENT}  {lead:>9}  {:>11}  {:>13}  {:>10}  {:>10}",
        "frames/emit", "bytes/emit", "one frame", "deliveries"
    );
    for r in rows {
        let key = if same_audience { r.message_bytes } else { r.clients };
        let _ = writeln!(
            out,
            "{INDENT}  {:>9}  {:>11}  {:>13}  {:>10}  {:>10}",
            thousands(key as u64),
            thousands(r.frames_per_emit),
            thousands(r.bytes_per_emit),
            thousands(r.frame_bytes),
            thousands(r.deliveries),
        );
    }
    let _ = writeln!(
        out,
        "{INDENT}  {}",
        style::note("measured on this machine: they vary")
    );
    let _ = writeln!(
        out,
        "{INDENT}  {lead:>9}  {:>13}  {:>14}  {:>15}",
        "last delivery", "deliveries", "memory/conn."
    );
    for r in rows {
        let key = if same_audience { r.message_bytes } else { r.clients };
        let memory = match r.memory.bytes_per_connection {
            Some(bytes) => format!("{:.1} KB", bytes as f64 / 1024.0),
            None => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{INDENT}  {:>9}  {:>13}  {:>14}  {:>15}",
            thousands(key as u64),
            millis(r.last_delivery),
            format!("{}/s", thousands(r.per_second)),
            memory,
        );
    }
    // How the time grew from each size to the next.
    for pair in rows.windows(2) {
        let (small, large) = (&pair[0], &pair[1]);
        if small.last_delivery.micros == 0 {
            continue;
        }
        let (what, from, to) = if same_audience {
            ("bytes", small.message_bytes, large.message_bytes)
        } else {
            ("clients", small.clients, large.clients)
        };
        let grew = large.last_delivery.micros as f64 / small.last_delivery.micros as f64;
        let _ = writeln!(
            out,
            "{INDENT}  {} {} to {} {what}: the last delivery took {grew:.1}× as long",
            style::arrow(),
            thousands(from as u64),
            thousands(to as u64),
        );
    }
}

fn volatile(out: &mut String, f: &VolatileFigures, width: usize) {
    let _ = writeln!(
        out,
        "{INDENT}{} {} normal and {} volatile emits to a fast and a slow reader",
        style::strong("▸"),
        f.emits,
        f.emits
    );
    let filler = format!(
        "first one message of {} MB filled the slow reader's connection; it read nothing \
         more until every emit was made",
        f.filler_bytes >> 20
    );
    out.push_str(&super::layout::wrapped(&filler, "    ", "    ", width));
    let _ = writeln!(out, "{INDENT}  {:<12}  {:<16}  io.volatile.emit", "", "io.emit");
    let cell = |got: u64| {
        let mark = if got == u64::from(f.emits) {
            style::ok()
        } else {
            style::no()
        };
        format!("{mark} {got} of {}", f.emits)
    };
    let pad = |text: String, width: usize| {
        let shown = super::layout::columns(&anstream::adapter::strip_str(&text).to_string());
        format!("{text}{}", " ".repeat(width.saturating_sub(shown)))
    };
    for (who, normal, volatile) in [
        ("fast reader", f.normal_fast, f.volatile_fast),
        ("slow reader", f.normal_slow, f.volatile_slow),
    ] {
        let _ = writeln!(
            out,
            "{INDENT}  {who:<12}  {}  {}",
            pad(cell(normal), 16),
            cell(volatile)
        );
    }
    let kept: Vec<String> = f.volatile_slow_kept.iter().map(u64::to_string).collect();
    let line = format!(
        "the slow reader's normal emits waited in its queue; of the volatile ones it got {} \
         (number {}), the rest were replaced before its writer was free",
        f.volatile_slow,
        if kept.is_empty() {
            "none".to_owned()
        } else {
            listed(&kept)
        }
    );
    out.push_str(&super::layout::wrapped(
        &format!("{} {line}", style::arrow()),
        "    ",
        "      ",
        width,
    ));
}

fn encode(out: &mut String, rows: &[EncodeRow]) {
    let Some(first) = rows.first() else { return };
    let _ = writeln!(
        out,
        "{INDENT}{} one {}-byte message to {} clients, two ways",
        style::strong("▸"),
        thousands(first.message_bytes as u64),
        thousands(first.clients as u64)
    );
    let _ = writeln!(out, "{INDENT}  {}", style::note("counted: the same on every run"));
    let _ = writeln!(
        out,
        "{INDENT}  {:<32}  {:>7}  {:>6}  {:>11}  same bytes",
        "", "encoded", "frames", "bytes"
    );
    for r in rows {
        let same = if r.identical { style::ok() } else { style::no() };
        let _ = writeln!(
            out,
            "{INDENT}  {:<32}  {:>7}  {:>6}  {:>11}  {same}",
            r.how,
            thousands(r.encodings),
            thousands(r.frames),
            thousands(r.bytes),
        );
    }
    let _ = writeln!(
        out,
        "{INDENT}  {}",
        style::note("measured on this machine: they vary")
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{INDENT}  {:<32}  last delivery after {}",
            r.how,
            millis(r.last_delivery)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000_400), "10,000,400");
    }

    #[test]
    fn times_keep_three_figures_below_ten_milliseconds() {
        assert_eq!(millis(Timing { micros: 214 }), "0.214 ms");
        assert_eq!(millis(Timing { micros: 12_345 }), "12.3 ms");
    }
}
