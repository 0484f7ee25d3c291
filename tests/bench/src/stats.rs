//! Numbers about a run: latency percentiles, the payload's timestamp marker,
//! and the server process's CPU time and memory from `/proc`.

/// Bytes of the marker every payload starts with: `pw:<seq 8>:<µs 13>:`.
pub(crate) const MARKER_LEN: usize = 26;

/// Write the marker of message `seq` published `micros` after the run's origin.
pub(crate) fn write_marker(out: &mut Vec<u8>, seq: u64, micros: u64) {
    out.extend_from_slice(format!("pw:{seq:08}:{micros:013}:").as_bytes());
}

/// Read a marker at the start of `bytes`: `(seq, micros)`.
pub(crate) fn read_marker(bytes: &[u8]) -> Option<(u64, u64)> {
    let marker = bytes.get(..MARKER_LEN)?;
    let text = core::str::from_utf8(marker).ok()?;
    let rest = text.strip_prefix("pw:")?;
    let (seq, rest) = rest.split_at_checked(8)?;
    let rest = rest.strip_prefix(':')?;
    let (micros, rest) = rest.split_at_checked(13)?;
    (rest == ":").then_some(())?;
    Some((seq.parse().ok()?, micros.parse().ok()?))
}

/// Find every marker in `bytes` (a transport that has no parser in core,
/// such as the forever frame, or a raw long-poll body).
pub(crate) fn scan_markers(bytes: &[u8], mut found: impl FnMut(u64, u64)) -> usize {
    let mut consumed = 0;
    let mut at = 0;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(3).position(|w| w == b"pw:"))
    {
        let start = at + offset;
        if start + MARKER_LEN > bytes.len() {
            return start;
        }
        match bytes.get(start..).and_then(read_marker) {
            Some((seq, micros)) => {
                found(seq, micros);
                consumed = start + MARKER_LEN;
                at = consumed;
            }
            None => at = start + 1,
        }
    }
    // Keep a tail that may hold the start of a marker.
    consumed.max(bytes.len().saturating_sub(MARKER_LEN - 1))
}

/// The value at percentile `p` (0–100) of sorted `values`, by nearest rank.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Linux reports process times in USER_HZ ticks, which is 100 on every
/// architecture userspace sees (the kernel converts to it).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system, all threads) used so far by `pids`.
pub(crate) fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may hold spaces) in parentheses.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the whole line.
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .sum::<u64>() as f64
        / TICKS_PER_SECOND
}

/// Resident memory of `pids`, in KiB.
pub(crate) fn rss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&values, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn marker_round_trips_and_is_found_across_chunks() {
        let mut bytes = b"<script>f(\"".to_vec();
        write_marker(&mut bytes, 42, 1_234_567);
        bytes.extend_from_slice(b"xxxx\")</script>");
        assert_eq!(read_marker(&bytes[11..]), Some((42, 1_234_567)));

        // Split inside the marker: the first scan keeps the partial marker.
        let (first, second) = bytes.split_at(20);
        let mut found = Vec::new();
        let kept = scan_markers(first, |seq, t| found.push((seq, t)));
        assert!(found.is_empty());
        let mut rest = first[kept..].to_vec();
        rest.extend_from_slice(second);
        scan_markers(&rest, |seq, t| found.push((seq, t)));
        assert_eq!(found, [(42, 1_234_567)]);
    }
}
