//! How long conversations are: conversations bucketed by message count (1, 2-3, 4-7, 8-15,
//! ...), with the average length per bucket and the cumulative share of conversations.
//! Counts messages newer than `days` (default: all). Reads `days`, `user_id`.

pub(super) const SQL: &str = "
WITH per_conversation AS (
  SELECT m.conversation_id, count(*) AS messages
  FROM messages m
  WHERE m.conversation_id IS NOT NULL
    AND (CAST($since AS BIGINT) IS NULL OR m.created_at > make_timestamp(CAST($since AS BIGINT)))
    AND (CAST($user_id AS VARCHAR) IS NULL OR m.user_id = CAST($user_id AS VARCHAR))
  GROUP BY 1
), buckets AS (
  SELECT CAST(floor(log2(messages)) AS INTEGER) AS b, count(*) AS conversations, avg(messages) AS avg_messages
  FROM per_conversation
  GROUP BY 1
)
SELECT CAST(pow(2, b) AS BIGINT) AS min_messages,
       CAST(pow(2, b + 1) - 1 AS BIGINT) AS max_messages,
       conversations,
       avg_messages,
       CAST(sum(conversations) OVER (ORDER BY b) AS DOUBLE) / sum(conversations) OVER () AS cumulative_share
FROM buckets
ORDER BY b";

pub(super) const PARAMS: &[&str] = &["since", "user_id"];
