/**
 * What the API tests share: a small demo shop whose configuration has a `service:` block (the
 * site's origin, small limits so that a test reaches them), a log collector, and the check that
 * no log line carries an address, a token or a query string.
 */
import { expect } from 'vitest';
import { editConfig, shop } from './shop-helpers.js';

export const ORIGIN = 'https://shop.example';

export interface ServiceLimits {
  readonly perClient: number;
  readonly perAddress: number;
  readonly bodyBytes: number;
}

/** A demo shop of `customers` with the service's settings appended to its registre.yaml. */
export async function serviceShop(customers: number, limits: ServiceLimits, trustProxy = true) {
  const made = await shop(customers, 1);
  editConfig(
    made.config,
    (text) =>
      `${text}service:\n  origins: [${JSON.stringify(ORIGIN)}]\n  trustProxy: ${trustProxy}\n  limits:\n    perClient: ${limits.perClient}\n    perAddress: ${limits.perAddress}\n    bodyBytes: ${limits.bodyBytes}\n`,
  );
  return made;
}

/** The service's log lines, kept to be checked. */
export function logCollector() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: (entry: Record<string, unknown>) => void lines.push(entry) };
}

/** No line names an address, carries a token's secret or a query string. */
export function expectCleanLogs(lines: readonly Record<string, unknown>[], secrets: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const text = JSON.stringify(line);
    expect(text).not.toMatch(/@|rgt_|Bearer/i);
    for (const secret of secrets) expect(text).not.toContain(secret);
    for (const value of Object.values(line))
      if (typeof value === 'string' && value.startsWith('/')) expect(value).not.toContain('?');
  }
}

/** A clock a test moves on by hand (`tick`), from now. */
export function handClock() {
  let now = Date.now();
  return {
    clock: { now: () => new Date(now), today: () => new Date(now).toISOString().slice(0, 10) },
    tick: (ms: number) => {
      now += ms;
    },
    /**
     * To a second past the next hour: the rate limits' windows are fixed (per minute, per
     * hour), so a test that moves the clock across a window's end would see its counts reset.
     */
    toNextHour: () => {
      now += 3_600_000 - (now % 3_600_000) + 1_000;
    },
  };
}
