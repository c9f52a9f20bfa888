//! Engagement per user and week (weeks start on Monday, local time) over the last `weeks`
//! weeks (default 12), with window functions: a 4-week moving average of messages, the
//! change from the user's previous active week, and the running total. Reads `weeks`,
//! `user_id`, `utc_offset_minutes`.

pub(super) const SQL: &str = "
WITH local AS (
  SELECT m.user_id, m.conversation_id, m.role, m.sentiment,
         m.created_at + to_minutes(CAST($offset_min AS BIGINT)) AS ts
  FROM messages m
  WHERE m.created_at IS NOT NULL
    AND (CAST($since AS BIGINT) IS NULL OR m.created_at > make_timestamp(CAST($since AS BIGINT)))
    AND (CAST($user_id AS VARCHAR) IS NULL OR m.user_id = CAST($user_id AS VARCHAR))
), weekly AS (
  SELECT user_id,
         date_trunc('week', ts) AS week,
         count(*) AS messages,
         count(*) FILTER (WHERE role = 'user') AS user_messages,
         count(DISTINCT conversation_id) AS conversations,
         count(DISTINCT date_trunc('day', ts)) AS active_days,
         avg(sentiment) AS avg_sentiment
  FROM local
  GROUP BY 1, 2
)
SELECT user_id,
       strftime(week, '%Y-%m-%d') AS week,
       messages,
       user_messages,
       conversations,
       active_days,
       avg_sentiment,
       avg(messages) OVER (PARTITION BY user_id ORDER BY week ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS messages_4w_avg,
       messages - lag(messages) OVER (PARTITION BY user_id ORDER BY week) AS change_from_previous_week,
       sum(messages) OVER (PARTITION BY user_id ORDER BY week) AS cumulative_messages
FROM weekly
ORDER BY user_id, week";

pub(super) const PARAMS: &[&str] = &["since", "offset_min", "user_id"];
