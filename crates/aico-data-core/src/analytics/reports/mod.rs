//! Named, parameterized analytical reports over the synced tables. Each report is one SQL
//! statement in its own file; parameters are bound, never spliced.
//!
//! Common parameters: `days` (look-back window, from `now`), `user_id` (filter), and
//! `utc_offset_minutes` (days, hours and weekdays are computed in that local time; DuckDB's
//! time-zone names need the ICU extension, which this offline build does not load).

mod activity_heatmap;
mod conversation_lengths;
mod daily_metrics;
mod engagement_trend;
mod sentiment_trend;

use super::time::now_micros;
use crate::error::{Error, Result};
use crate::sql::{Params, Value};

/// Parameters of a report (each report documents which it reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportParams {
    pub days: Option<u32>,
    pub weeks: Option<u32>,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub utc_offset_minutes: Option<i32>,
    /// Moving-average window in days (sentiment trend).
    pub window_days: Option<u32>,
    /// "Now" in epoch milliseconds (tests and reproducible reports); default: the clock.
    pub now_ms: Option<i64>,
}

/// The reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Per day: message count, average sentiment, p95 response time (the seed's query).
    DailyMetrics,
    /// Messages per weekday x hour.
    ActivityHeatmap,
    /// Conversations by message count, in power-of-two buckets.
    ConversationLengths,
    /// Per user and week: activity, with a 4-week moving average and the week-over-week change.
    EngagementTrend,
    /// Per day: average sentiment and its moving average.
    SentimentTrend,
}

impl Report {
    pub const ALL: [Report; 5] =
        [Report::DailyMetrics, Report::ActivityHeatmap, Report::ConversationLengths, Report::EngagementTrend, Report::SentimentTrend];

    pub fn name(self) -> &'static str {
        match self {
            Report::DailyMetrics => "dailyMetrics",
            Report::ActivityHeatmap => "activityHeatmap",
            Report::ConversationLengths => "conversationLengths",
            Report::EngagementTrend => "engagementTrend",
            Report::SentimentTrend => "sentimentTrend",
        }
    }

    pub fn parse(name: &str) -> Result<Report> {
        Report::ALL.into_iter().find(|r| r.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Report::ALL.iter().map(|r| r.name()).collect();
            Error::invalid(format!("unknown report {name:?}; reports: {}", names.join(", ")))
        })
    }

    pub(crate) fn sql(self) -> &'static str {
        match self {
            Report::DailyMetrics => daily_metrics::SQL,
            Report::ActivityHeatmap => activity_heatmap::SQL,
            Report::ConversationLengths => conversation_lengths::SQL,
            Report::EngagementTrend => engagement_trend::SQL,
            Report::SentimentTrend => sentiment_trend::SQL,
        }
    }

    fn used_params(self) -> &'static [&'static str] {
        match self {
            Report::DailyMetrics => daily_metrics::PARAMS,
            Report::ActivityHeatmap => activity_heatmap::PARAMS,
            Report::ConversationLengths => conversation_lengths::PARAMS,
            Report::EngagementTrend => engagement_trend::PARAMS,
            Report::SentimentTrend => sentiment_trend::PARAMS,
        }
    }

    fn default_days(self) -> Option<u32> {
        match self {
            Report::DailyMetrics | Report::ActivityHeatmap | Report::SentimentTrend => Some(30),
            Report::ConversationLengths => None,
            Report::EngagementTrend => None,
        }
    }

    /// The named parameters of this report's statement.
    pub(crate) fn params(self, p: &ReportParams) -> Result<Params> {
        const MAX_DAYS: u32 = 365 * 100;
        let now = p.now_ms.map_or_else(now_micros, |ms| ms.saturating_mul(1000));
        let days = match self {
            Report::EngagementTrend => p.weeks.or(Some(12)).map(|w| w.saturating_mul(7)),
            _ => p.days.or(self.default_days()),
        };
        if days.is_some_and(|d| d == 0 || d > MAX_DAYS) || p.weeks == Some(0) {
            return Err(Error::invalid("days/weeks must be positive and at most 100 years"));
        }
        let offset = p.utc_offset_minutes.unwrap_or(0);
        if !(-18 * 60..=18 * 60).contains(&offset) {
            return Err(Error::invalid("utcOffsetMinutes must be within ±18 hours"));
        }
        let window = p.window_days.unwrap_or(7);
        if window == 0 || window > 365 {
            return Err(Error::invalid("windowDays must be between 1 and 365"));
        }
        let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
        let mut named = vec![
            ("since".to_string(), days.map_or(Value::Null, |d| Value::Integer(now - d as i64 * 86_400_000_000))),
            ("offset_min".to_string(), Value::Integer(offset as i64)),
            ("user_id".to_string(), text(&p.user_id)),
            ("role".to_string(), text(&p.role)),
            ("window_days".to_string(), Value::Integer(window as i64 - 1)),
        ];
        named.retain(|(name, _)| self.used_params().contains(&name.as_str()));
        Ok(Params::Named(named))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_bad_params_are_refused() {
        for r in Report::ALL {
            assert_eq!(Report::parse(r.name()).unwrap(), r);
        }
        assert_eq!(Report::parse("drop").unwrap_err().code(), "INVALID_ARGUMENT");
        let bad = ReportParams { days: Some(0), ..Default::default() };
        assert!(Report::DailyMetrics.params(&bad).is_err());
        let bad = ReportParams { utc_offset_minutes: Some(24 * 60), ..Default::default() };
        assert!(Report::DailyMetrics.params(&bad).is_err());
    }
}
