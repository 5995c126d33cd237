//! What the benchmark reads from the operating system: a process's memory and CPU time from
//! `/proc` (Linux), and the open-file limit.

use std::time::Duration;

/// A `kB` field of `/proc/PID/status`: `VmRSS` (the memory the process holds now) or `VmHWM`
/// (the most it has held, its "high-water mark").
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The CPU time a process has used so far, user and system together: fields 14 and 15 of
/// `/proc/PID/stat`, in clock ticks. Linux reports them in `USER_HZ`, which is 100 on every
/// architecture it exposes to programs, so one tick is 10 ms. (The same figures `getrusage`
/// gives for the calling process, readable for another process too.)
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // After the name, field 3 is at index 0, so fields 14 and 15 are at 11 and 12.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Raises this process's open-file soft limit to its hard limit, and returns the limit now in
/// force. Every connection is a file descriptor on both ends, and the processes this one starts
/// (the servers, the receivers) inherit the raised limit.
pub fn raise_open_files() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.maximum.is_some() && limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// The CPU time of each thread of a process, by thread id, with its name (`comm`, at most 15
/// bytes: `tokio-runtime-w`, `live-trace prin`, `node`, `V8 DefaultWorke`…). Two readings,
/// subtracted, say where a server spent its time.
pub fn thread_times(pid: u32) -> Vec<(u32, String, Duration)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        out.push((tid, name, Duration::from_millis((ticks(11) + ticks(12)) * 10)));
    }
    out
}

/// What each kind of thread (by name) used between two [`thread_times`] readings, most first.
pub fn busiest_threads(
    before: &[(u32, String, Duration)],
    after: &[(u32, String, Duration)],
) -> Vec<(String, Duration)> {
    let mut by_name: Vec<(String, Duration)> = Vec::new();
    for (tid, name, time) in after {
        let earlier = before
            .iter()
            .find(|(t, ..)| t == tid)
            .map_or(Duration::ZERO, |b| b.2);
        let used = time.saturating_sub(earlier);
        match by_name.iter_mut().find(|(n, _)| n == name) {
            Some((_, total)) => *total += used,
            None => by_name.push((name.clone(), used)),
        }
    }
    by_name.sort_by_key(|b| std::cmp::Reverse(b.1));
    by_name.retain(|(_, t)| !t.is_zero());
    by_name
}
