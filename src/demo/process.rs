//! Process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_open_fds`, `process_start_time_seconds`) read from /proc, as
//! Prometheus client libraries expose them. The crate we use for metrics
//! has no process collector.

/// The process metrics in OpenMetrics text; empty where /proc is missing.
pub(crate) fn exposition() -> String {
    let Some(stat) = read_stat() else {
        return String::new();
    };
    let mut out = String::new();
    let mut metric =
        |name: &str, kind: &str, unit: Option<&str>, help: &str, sample: &str, value: f64| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            if let Some(unit) = unit {
                out.push_str(&format!("# UNIT {name} {unit}\n"));
            }
            out.push_str(&format!("{sample} {value}\n"));
        };
    metric(
        "process_cpu_seconds",
        "counter",
        Some("seconds"),
        "Total user and system CPU time spent in seconds.",
        "process_cpu_seconds_total",
        stat.cpu_seconds,
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        Some("bytes"),
        "Resident memory size in bytes.",
        "process_resident_memory_bytes",
        stat.rss_bytes,
    );
    if let Some(fds) = open_fds() {
        metric(
            "process_open_fds",
            "gauge",
            None,
            "Number of open file descriptors.",
            "process_open_fds",
            fds as f64,
        );
    }
    if let Some(start) = stat.start_time_seconds {
        metric(
            "process_start_time_seconds",
            "gauge",
            Some("seconds"),
            "Start time of the process since unix epoch in seconds.",
            "process_start_time_seconds",
            start,
        );
    }
    out
}

struct Stat {
    cpu_seconds: f64,
    rss_bytes: f64,
    start_time_seconds: Option<f64>,
}

fn read_stat() -> Option<Stat> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields resume after its ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so field N is fields[N - 3].
    let number = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    let cpu_seconds = (number(14)? + number(15)?) / ticks;
    let rss_bytes = number(24)? * page;
    let start_time_seconds = boot_time()
        .zip(number(22))
        .map(|(boot, start)| boot + start / ticks);
    Some(Stat {
        cpu_seconds,
        rss_bytes,
        start_time_seconds,
    })
}

fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn open_fds() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}
