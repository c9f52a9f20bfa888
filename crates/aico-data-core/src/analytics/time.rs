//! Timestamps between libSQL (ISO-8601 text or epoch numbers) and DuckDB (`TIMESTAMP`,
//! microseconds since 1970-01-01 UTC), and back to ISO-8601 text for JavaScript.

/// How an epoch number stored in libSQL is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
}

impl EpochUnit {
    pub(crate) fn micros_per_unit(self) -> i64 {
        match self {
            EpochUnit::Seconds => 1_000_000,
            EpochUnit::Millis => 1_000,
            EpochUnit::Micros => 1,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            EpochUnit::Seconds => "s",
            EpochUnit::Millis => "ms",
            EpochUnit::Micros => "us",
        }
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parses `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM[:SS[.fraction]]` and a
/// zone (`Z`, `+HH:MM`, `+HHMM`, `+HH`). No zone means UTC (SQLite's `CURRENT_TIMESTAMP` and
/// `datetime()` write UTC without a zone). Returns microseconds since the epoch, or `None`.
pub fn parse_iso_micros(text: &[u8]) -> Option<i64> {
    let b = text.trim_ascii();
    let y = digits(b, 0, 4)? as i64;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (mo, d) = (digits(b, 5, 2)?, digits(b, 8, 2)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut micros = days_from_civil(y, mo, d) * MICROS_PER_DAY;
    let mut i = 10;
    if i == b.len() {
        return Some(micros);
    }
    if b[i] != b'T' && b[i] != b' ' && b[i] != b't' {
        return None;
    }
    i += 1;
    let (h, mi) = (digits(b, i, 2)?, digits(b, i + 3, 2)?);
    if b.get(i + 2) != Some(&b':') || h > 23 || mi > 59 {
        return None;
    }
    i += 5;
    let mut s = 0;
    if b.get(i) == Some(&b':') {
        s = digits(b, i + 1, 2)?;
        if s > 60 {
            return None;
        }
        i += 3;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            let mut frac = 0i64;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 6 {
                    frac = frac * 10 + (b[i] - b'0') as i64;
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            for _ in (i - start).min(6)..6 {
                frac *= 10;
            }
            micros += frac;
        }
    }
    micros += (h as i64 * 3600 + mi as i64 * 60 + s as i64) * 1_000_000;
    match b.get(i) {
        None => Some(micros),
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => Some(micros),
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)? as i64;
            let rest = &b[i + 3..];
            let om = match rest {
                [] => 0,
                [b':', m1, m2] | [m1, m2] => digits(&[*m1, *m2], 0, 2)? as i64,
                _ => return None,
            };
            let off = (oh * 60 + om) * 60_000_000;
            Some(if sign == b'+' { micros - off } else { micros + off })
        }
        _ => None,
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (six fraction digits when the value has sub-millisecond
/// precision): the form `new Date(...)` parses.
pub fn format_iso_micros(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1_000_000;
    let frac = rem % 1_000_000;
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if frac % 1000 == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", frac / 1000)
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:06}Z")
    }
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_sqlite_and_js_write() {
        let base = 1_735_689_600_000_000; // 2025-01-01T00:00:00Z
        assert_eq!(parse_iso_micros(b"2025-01-01"), Some(base));
        assert_eq!(parse_iso_micros(b"2025-01-01 00:00:00"), Some(base));
        assert_eq!(parse_iso_micros(b"2025-01-01T00:00:00.000Z"), Some(base));
        assert_eq!(parse_iso_micros(b"2025-01-01T01:30:00+01:30"), Some(base));
        assert_eq!(parse_iso_micros(b"2024-12-31T23:00:00-0100"), Some(base));
        assert_eq!(parse_iso_micros(b"2025-01-01T00:00:00.5Z"), Some(base + 500_000));
        assert_eq!(parse_iso_micros(b"2025-01-01T00:00:00.1234567Z"), Some(base + 123_456));
        assert_eq!(parse_iso_micros(b"2024-02-29T12:00"), Some(base - (307 * 24 - 12) * 3_600_000_000));
        for bad in [&b"2025-02-30"[..], b"2025-13-01", b"yesterday", b"2025-01-01T25:00", b"2025-01-01Tx", b""] {
            assert_eq!(parse_iso_micros(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn formats_round_trip() {
        for micros in [0i64, 1_735_689_600_123_000, 1_735_689_600_123_456, -86_400_000_000 - 1] {
            assert_eq!(parse_iso_micros(format_iso_micros(micros).as_bytes()), Some(micros));
        }
        assert_eq!(format_iso_micros(1_735_689_600_000_000), "2025-01-01T00:00:00.000Z");
        assert_eq!(format_date(days_from_civil(2000, 2, 29)), "2000-02-29");
    }
}
