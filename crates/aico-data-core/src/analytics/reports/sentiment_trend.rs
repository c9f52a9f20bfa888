//! Sentiment over time: per day, the average sentiment of scored messages and its moving
//! average over `window_days` calendar days (default 7, weighted by messages), over the last
//! `days` days (default 30). Reads `days`, `window_days`, `user_id`, `utc_offset_minutes`.

pub(super) const SQL: &str = "
WITH daily AS (
  SELECT date_trunc('day', m.created_at + to_minutes(CAST($offset_min AS BIGINT))) AS day,
         avg(m.sentiment) AS avg_sentiment,
         count(*) AS scored_messages
  FROM messages m
  WHERE m.sentiment IS NOT NULL AND m.created_at IS NOT NULL
    AND (CAST($since AS BIGINT) IS NULL OR m.created_at > make_timestamp(CAST($since AS BIGINT)))
    AND (CAST($user_id AS VARCHAR) IS NULL OR m.user_id = CAST($user_id AS VARCHAR))
  GROUP BY 1
)
SELECT strftime(d.day, '%Y-%m-%d') AS day,
       d.avg_sentiment,
       d.scored_messages,
       sum(w.avg_sentiment * w.scored_messages) / sum(w.scored_messages) AS moving_avg_sentiment
FROM daily d
JOIN daily w ON w.day BETWEEN d.day - to_days(CAST($window_days AS INTEGER)) AND d.day
GROUP BY d.day, d.avg_sentiment, d.scored_messages
ORDER BY d.day";

pub(super) const PARAMS: &[&str] = &["since", "offset_min", "user_id", "window_days"];
