//! What a task reads of a running process from /proc: its memory, its descendants and the
//! CPU time they used.

/// A field of `/proc/<pid>/<file>` in kB (`"status"`, `"VmRSS:"`; `"smaps_rollup"`, `"Pss:"`).
pub fn kib(pid: u32, file: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The pid and every descendant of it, from /proc.
pub fn tree(root: u32) -> Vec<u32> {
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let parent = all[i];
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        all.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
        i += 1;
    }
    all
}

/// CPU time (user + system) the tree has used so far, in seconds: fields 14 and 15 of each
/// /proc/<pid>/stat, in clock ticks (100 per second on Linux).
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks: u64 = pids
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .map(|stat| {
            // The command name, field 2, may hold spaces: count from the ')' that ends it.
            let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
            let field = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            field(11) + field(12)
        })
        .sum();
    ticks as f64 / 100.0
}
