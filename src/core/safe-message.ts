/**
 * A database error's first line without the values it quotes (PostgreSQL and MySQL put the
 * offending value, an address or a name, in double or single quotes).
 */
export function safeMessage(error: unknown): string {
  const first = ((error as Error)?.message ?? String(error)).split('\n')[0] ?? '';
  return first.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'");
}
