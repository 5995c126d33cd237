//! The table the benchmark prints: Markdown, so it can go into the README as it is, and within
//! 80 columns, like everything the tutor prints.

use std::fmt::Write;

use crate::run::Figures;
use crate::server::Kind;

/// The table of every measurement, the ratio of ours to Node's at each size, then what the CPU
/// did during each run.
pub fn table(all: &[Figures]) -> String {
    let mut out = String::new();
    out.push_str("| clients | server  | deliveries/s | p50 ms | p99 ms | KiB/conn | peak MiB |\n");
    out.push_str("|--------:|---------|-------------:|-------:|-------:|---------:|---------:|\n");
    for f in all {
        let _ = writeln!(
            out,
            "| {:>7} | {:<7} | {:>12} | {:>6} | {:>6} | {:>8.1} | {:>8.0} |",
            thousands(f.clients as u64),
            label(f.kind),
            thousands(f.per_second.round() as u64),
            ms(f.p50_ms),
            ms(f.p99_ms),
            f.kib_per_connection,
            f.peak_mib
        );
    }
    out.push('\n');
    for ours in all.iter().filter(|f| f.kind == Kind::Ours) {
        if let Some(node) = all
            .iter()
            .find(|f| f.kind == Kind::Node && f.clients == ours.clients)
        {
            let _ = writeln!(
                out,
                "- {} clients, serve 3 / Node: {:.2}x deliveries/s, {:.2}x memory per\n  \
                 connection, {:.2}x server CPU per delivery.",
                thousands(ours.clients as u64),
                ours.per_second / node.per_second,
                ours.kib_per_connection / node.kib_per_connection,
                cpu_per_delivery_us(ours) / cpu_per_delivery_us(node)
            );
        }
    }
    for f in all {
        let wall = f.wall.as_secs_f64().max(1e-6);
        let _ = writeln!(
            out,
            "- {} clients, {}: {} of {} delivered in {:.2} s.",
            thousands(f.clients as u64),
            label(f.kind),
            thousands(f.delivered as u64),
            thousands(f.expected as u64),
            wall,
        );
        let _ = writeln!(
            out,
            "  server CPU {:.2} s = {:.2} cores, {:.1} µs/delivery; clients {:.2} s = {:.2} cores.",
            f.server_cpu.as_secs_f64(),
            f.server_cpu.as_secs_f64() / wall,
            cpu_per_delivery_us(f),
            f.client_cpu.as_secs_f64(),
            f.client_cpu.as_secs_f64() / wall,
        );
        let threads: Vec<String> = f
            .server_threads
            .iter()
            .filter(|(_, t)| t.as_millis() >= 50)
            .take(3)
            .map(|(name, t)| format!("{name} {:.2} s", t.as_secs_f64()))
            .collect();
        let _ = writeln!(out, "  Server threads: {}.", threads.join(", "));
    }
    out
}

/// The server's CPU time for one delivery, in µs: unlike deliveries per second, it does not
/// depend on how much of the machine other programs left to the server.
fn cpu_per_delivery_us(f: &Figures) -> f64 {
    f.server_cpu.as_secs_f64() * 1e6 / f.delivered.max(1) as f64
}

/// A latency in milliseconds: one decimal below 100 ms, whole milliseconds above.
fn ms(value: f64) -> String {
    if value < 100.0 {
        format!("{value:.1}")
    } else {
        thousands(value.round() as u64)
    }
}

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Ours => "serve 3",
        Kind::Node => "Node",
    }
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
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
