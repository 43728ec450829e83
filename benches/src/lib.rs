//! Helpers shared by the measurement programs in `src/bin/`; the criterion benches live in
//! `benches/`.

/// This process's peak RSS (Linux `VmHWM`; reset by exec, unlike `ru_maxrss`), 0 elsewhere.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
