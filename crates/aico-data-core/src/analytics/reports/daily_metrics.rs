//! The seed's example query: per day, the number of messages, their average sentiment and
//! the 95th percentile of response time (DuckDB's t-digest `approx_quantile`), over the last
//! `days` days (default 30), newest day first. Reads `days`, `user_id`, `utc_offset_minutes`.
//!
//! The seed wrote it against a `conversations(timestamp, sentiment_score, response_time)`
//! table; here the same aggregation runs over `messages(created_at, sentiment,
//! response_time_ms)`, and `day` is `YYYY-MM-DD` text.

pub(super) const SQL: &str = "
SELECT strftime(date_trunc('day', m.created_at + to_minutes(CAST($offset_min AS BIGINT))), '%Y-%m-%d') AS day,
       count(*) AS message_count,
       avg(m.sentiment) AS avg_sentiment,
       approx_quantile(m.response_time_ms, 0.95) AS p95_response_time_ms
FROM messages m
WHERE m.created_at IS NOT NULL
  AND (CAST($since AS BIGINT) IS NULL OR m.created_at > make_timestamp(CAST($since AS BIGINT)))
  AND (CAST($user_id AS VARCHAR) IS NULL OR m.user_id = CAST($user_id AS VARCHAR))
GROUP BY 1
ORDER BY 1 DESC";

pub(super) const PARAMS: &[&str] = &["since", "offset_min", "user_id"];
