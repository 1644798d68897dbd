//! Work-order windows at run time: whether now lies inside one of an order's windows (days
//! and hours in the site's time zone), and how long until that window ends, so that
//! `palisade workorder open` refuses outside the window and never opens past its end.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use palisade_compiler::ir::{Policy, TimeWindow, WorkOrder};

/// Now, or `PALISADE_NOW` (an RFC 3339 instant) for reproducible tests.
pub fn now() -> Result<Timestamp, String> {
    match std::env::var("PALISADE_NOW") {
        Ok(v) => v
            .parse::<Timestamp>()
            .map_err(|e| format!("PALISADE_NOW `{v}`: {e}")),
        Err(_) => Ok(Timestamp::now()),
    }
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A window as the source writes it: `Mon,Tue,Wed,Thu,Fri 07:00-17:00` (the report shows
/// the same text).
pub fn window_text(w: &TimeWindow) -> String {
    let days: Vec<&str> = w
        .days
        .iter()
        .filter_map(|d| DAYS.get(usize::from(*d)).copied())
        .collect();
    format!(
        "{} {:02}:{:02}-{:02}:{:02}",
        days.join(","),
        w.from / 60,
        w.from % 60,
        w.to / 60,
        w.to % 60
    )
}

/// `None` when the order has no window; `Some(seconds)` until the end of the window that
/// holds `now`; an error saying which windows there are when none holds it.
pub fn remaining(
    policy: &Policy,
    order: &WorkOrder,
    now: Timestamp,
) -> Result<Option<u64>, String> {
    if order.windows.is_empty() {
        return Ok(None);
    }
    let tz_name = policy.site.timezone.as_str();
    let tz = TimeZone::get(tz_name).map_err(|e| format!("time zone `{tz_name}`: {e}"))?;
    let local: Zoned = now.to_zoned(tz.clone());
    let day = local.weekday().to_monday_zero_offset();
    let minute =
        u32::from(local.hour().unsigned_abs()) * 60 + u32::from(local.minute().unsigned_abs());
    let mut best: Option<u64> = None;
    for w in &order.windows {
        let today = u8::try_from(day).ok().is_some_and(|d| w.days.contains(&d));
        if !today || minute < w.from || minute >= w.to {
            continue;
        }
        let date = local.date();
        let end = if w.to >= 1440 {
            date.tomorrow().map(|d| d.to_datetime(Time::midnight()))
        } else {
            Time::new((w.to / 60) as i8, (w.to % 60) as i8, 0, 0).map(|t| date.to_datetime(t))
        }
        .map_err(|e| e.to_string())?;
        let end = end.to_zoned(tz.clone()).map_err(|e| e.to_string())?;
        let secs = end.timestamp().as_second() - now.as_second();
        let secs = u64::try_from(secs.max(0)).unwrap_or(0);
        best = Some(best.map_or(secs, |b| b.max(secs)));
    }
    best.map(Some).ok_or_else(|| {
        let windows: Vec<String> = order.windows.iter().map(window_text).collect();
        format!(
            "`{}` may open only in its window ({} {tz_name}); it is {} {:02}:{:02} there now",
            order.name,
            windows.join("; "),
            DAYS.get(usize::try_from(day).unwrap_or(0))
                .copied()
                .unwrap_or("?"),
            minute / 60,
            minute % 60
        )
    })
}
