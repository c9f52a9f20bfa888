/** One change as it travels: `[hlc, origin, table, pk, op, base, cols, data, schemaVersion]`. */
export type WireChange = [string, string, string, string, 'I' | 'U' | 'D', string | null, string | null, string | null, number];
