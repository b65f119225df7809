import { describe, expect, it } from 'vitest';
import { formatStatus } from './audit.js';

describe('status', () => {
  it('names each lock by what holds it: a long request run is shown as a run, alive, not as a sweep', () => {
    const lock = (name: string, alive: boolean) => ({
      name,
      holder: 'host pid 12',
      acquiredAt: '2026-12-05T10:00:00Z',
      heartbeatAt: '2026-12-05T10:04:00Z',
      holdsSeen: null,
      alive,
    });
    const text = formatStatus({
      locks: [lock('request:12', true), lock('sweep:shop', false), lock('request:replay', true)],
      runs: [],
      holds: 0,
    });
    expect(text).toContain('run of request 12 running: host pid 12');
    expect(text).toContain('sweep died: host pid 12');
    expect(text).toContain('the next sweep takes over');
    expect(text).toContain('erasure replay running');
    expect(text).not.toContain('sweep running');
  });
});
