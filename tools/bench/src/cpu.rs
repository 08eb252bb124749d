//! CPU time of the stack's processes over a phase, from /proc, to show where the cores went.

use std::time::{Duration, Instant};

/// A watched process: its name, and its pid (for the emulators, started with setsid, the whole
/// process group).
#[derive(Debug, Clone)]
pub struct Watched {
    pub name: String,
    pub pid: u32,
}

/// `BENCH_WATCH="name=pid name=pid ..."` (set by scripts/bench.sh), plus this process.
pub fn watched_from_env() -> Vec<Watched> {
    let mut watched: Vec<Watched> = std::env::var("BENCH_WATCH")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(name, pid)| {
            Some(Watched {
                name: name.to_owned(),
                pid: pid.parse().ok()?,
            })
        })
        .collect();
    watched.push(Watched {
        name: "csms-bench".into(),
        pid: std::process::id(),
    });
    watched
}

/// (pid, pgrp, utime + stime in ticks) of every process.
fn processes() -> Vec<(u32, u32, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces): state ppid pgrp ... utime stime.
        let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let pgrp = rest.get(2)?.parse().ok()?;
        let ticks = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
        Some((pid, pgrp, ticks))
    })
    .collect()
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub struct Meter {
    watched: Vec<Watched>,
    start: Instant,
    before: Vec<u64>,
    total_before: u64,
}

/// Busy ticks of all cores since boot (/proc/stat), exited processes included.
fn busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let fields: Vec<u64> = cpu.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = fields.iter().take(8).sum();
    total.saturating_sub(fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0))
}

fn sample(watched: &[Watched]) -> (Vec<u64>, u64) {
    let all = processes();
    let of = |w: &Watched| {
        let own = all.iter().find(|(pid, _, _)| *pid == w.pid).map_or(0, |p| p.2);
        // A setsid-started emulator leads its group; sum the group (it may have children).
        let group: u64 = all
            .iter()
            .filter(|(pid, pgrp, _)| *pgrp == w.pid && *pid != w.pid)
            .map(|p| p.2)
            .sum();
        own + group
    };
    (watched.iter().map(of).collect(), busy_ticks())
}

impl Meter {
    pub fn start(watched: &[Watched]) -> Self {
        let (before, total_before) = sample(watched);
        Self {
            watched: watched.to_vec(),
            start: Instant::now(),
            before,
            total_before,
        }
    }

    /// CPU seconds of each watched process since start, and of everything else on the machine
    /// (system-wide busy time from /proc/stat minus theirs: other processes, kernel, ...).
    pub fn report(&self) -> String {
        let wall: Duration = self.start.elapsed();
        let (after, total_after) = sample(&self.watched);
        let hz = ticks_per_second();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut parts: Vec<String> = self
            .watched
            .iter()
            .zip(after.iter().zip(&self.before))
            .map(|(w, (a, b))| format!("{} {:.1} s", w.name, a.saturating_sub(*b) as f64 / hz))
            .collect();
        let watched_sum: u64 = after.iter().zip(&self.before).map(|(a, b)| a.saturating_sub(*b)).sum();
        let others = total_after
            .saturating_sub(self.total_before)
            .saturating_sub(watched_sum);
        parts.push(format!("everything else {:.1} s", others as f64 / hz));
        format!(
            "CPU used: {} (of {cores} cores x {:.1} s wall = {:.1} CPU-s)",
            parts.join(", "),
            wall.as_secs_f64(),
            cores as f64 * wall.as_secs_f64()
        )
    }
}
