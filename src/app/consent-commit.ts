/**
 * Group commit of consent events recorded one call at a time (a banner's choices through the API):
 * the first call writes at once; the calls that arrive while a write is under way wait for it and
 * go together in the next one, in one transaction with one audit entry (as an import's batch
 * does). A lone caller waits for nothing; many callers share commits instead of queueing for one
 * each. Each caller gets its own event's outcome; a failed write fails every call of its batch,
 * and none of their events is recorded.
 */
import type { NewConsentEvent, StateStore } from '../adapters/state/state-store.js';

interface Waiting {
  readonly event: NewConsentEvent;
  readonly resolve: (outcome: Outcome) => void;
  readonly reject: (error: unknown) => void;
}

export interface Outcome {
  readonly events: readonly number[];
  readonly rows: number;
  readonly duplicates: number;
}

/** The most events one commit takes (the rest wait for the next). */
const MOST = 2_000;

class Committer {
  private queue: Waiting[] = [];
  private running = false;

  constructor(
    private readonly state: StateStore,
    private readonly actor: string,
    private readonly now: () => string,
  ) {}

  add(event: NewConsentEvent): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MOST);
        try {
          const appended = await this.state.consents.append(
            batch.map((w) => w.event),
            this.actor,
            this.now(),
            batch.length > 1 ? { grouped: batch.length } : {},
          );
          batch.forEach((w, i) => {
            const one = appended.each[i] ?? { event: null, rows: 0, duplicates: 0 };
            w.resolve({
              events: one.event === null ? [] : [one.event],
              rows: one.rows,
              duplicates: one.duplicates,
            });
          });
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

const committers = new WeakMap<StateStore, Map<string, Committer>>();

/** Appends one event through the group commit of this state store and actor. */
export function appendGrouped(
  state: StateStore,
  actor: string,
  event: NewConsentEvent,
  now: () => string,
): Promise<Outcome> {
  let byActor = committers.get(state);
  if (!byActor) {
    byActor = new Map();
    committers.set(state, byActor);
  }
  let committer = byActor.get(actor);
  if (!committer) {
    committer = new Committer(state, actor, now);
    byActor.set(actor, committer);
  }
  return committer.add(event);
}
