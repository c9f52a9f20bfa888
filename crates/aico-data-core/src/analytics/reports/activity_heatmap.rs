//! When the user talks: messages per weekday (0 = Sunday) and hour of day, local time, over
//! the last `days` days (default 30). Only non-empty cells are returned. Reads `days`,
//! `user_id`, `role`, `utc_offset_minutes`.

pub(super) const SQL: &str = "
SELECT CAST(dayofweek(ts) AS INTEGER) AS weekday,
       CAST(hour(ts) AS INTEGER) AS hour,
       count(*) AS messages,
       count(DISTINCT conversation_id) AS conversations,
       avg(sentiment) AS avg_sentiment
FROM (
  SELECT m.created_at + to_minutes(CAST($offset_min AS BIGINT)) AS ts, m.conversation_id, m.sentiment
  FROM messages m
  WHERE m.created_at IS NOT NULL
    AND (CAST($since AS BIGINT) IS NULL OR m.created_at > make_timestamp(CAST($since AS BIGINT)))
    AND (CAST($user_id AS VARCHAR) IS NULL OR m.user_id = CAST($user_id AS VARCHAR))
    AND (CAST($role AS VARCHAR) IS NULL OR m.role = CAST($role AS VARCHAR))
)
GROUP BY 1, 2
ORDER BY 1, 2";

pub(super) const PARAMS: &[&str] = &["since", "offset_min", "user_id", "role"];
