/** SQL fragments shared by the core schemas. */

/** Current UTC time as ISO-8601 text with milliseconds, e.g. `2025-12-01T10:00:00.123Z` (sorts as text). */
export const NOW = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
