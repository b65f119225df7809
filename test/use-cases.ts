/**
 * The use cases as the tests written before the engine call them: one engine per call on a
 * configuration file (as one command of the CLI), the day and the instant overridable (`today`,
 * `now`), the actor the command line's unless one is given. The tests' assertions are unchanged; the
 * engine's own test (engine.test.ts) calls every use case on one engine.
 */
import type { Connection } from '../src/adapters/sql/connect.js';
import type { StateStore } from '../src/adapters/state/state-store.js';
import { acceptHead, exportAudit, readArchive, status, verifyAudit } from '../src/app/audit.js';
import { check } from '../src/app/check.js';
import { type DemoInput, demo } from '../src/app/demo.js';
import { type Clock, createEngine, type Engine, systemClock } from '../src/app/engine.js';
import { type ExplainInput, explain, explainAll } from '../src/app/explain.js';
import { addHold, type HoldAddInput, listHolds, releaseHold } from '../src/app/holds.js';
import { generateKey, rotateKey } from '../src/app/keys.js';
import { forecast, plan, planList } from '../src/app/plan.js';
import type { Project } from '../src/app/project.js';
import {
  extendRequest,
  liftRestriction,
  listRequests,
  type OpenRequestInput,
  openRequest,
  refuseRequest,
  replayErasures,
  resendCode,
  runRequest,
  sendLetters,
  showRequest,
  type Verification,
  verifyRequest,
} from '../src/app/requests/index.js';
import type { RunRequestInput } from '../src/app/requests/shared.js';
import {
  addSuppression,
  checkSuppression,
  type FilterMailingInput,
  filterMailing,
  type SuppressionAddInput,
  type SuppressionCheckInput,
} from '../src/app/suppression.js';
import { type SweepInput, sweep } from '../src/app/sweep.js';
import { cliActor, flagOf } from '../src/cli/shared.js';
import { fieldsAs, RegistreError } from '../src/core/errors.js';
import { parseSettings } from '../src/core/requests/requests.js';

/** These tests stand for commands: their actor is the command line's (`os:` and the account). */
export const TEST_ACTOR = cliActor();

interface When {
  readonly today?: string | undefined;
  readonly now?: Date | undefined;
}

function clockOf(when: When): Clock {
  return {
    now: () => when.now ?? systemClock.now(),
    today: () => when.today ?? (when.now ? when.now.toISOString().slice(0, 10) : systemClock.today()),
  };
}

/** Runs `f` on an engine built for this one call, then closes it. */
export async function once<T>(
  config: string | undefined,
  when: When,
  f: (engine: Engine) => Promise<T>,
): Promise<T> {
  const engine = createEngine({ config, clock: clockOf(when) });
  try {
    return await f(engine);
  } catch (error) {
    // Written as the command line writes it (`--batch-size`), as these tests expect.
    if (error instanceof RegistreError) error.message = fieldsAs(error.message, flagOf);
    throw error;
  } finally {
    await engine.close();
  }
}

const ctx = (actor?: string) => ({ actor: actor ?? TEST_ACTOR });

type Loose<T> = { -readonly [K in keyof T]?: T[K] | undefined };

/** Drops the keys whose value is undefined (the inputs are strict objects). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const runDemo = (options: DemoInput & { progress?: boolean }) => {
  const { progress: _progress, ...input } = options;
  return once(undefined, {}, (e) => demo(e, defined(input), ctx()));
};

export const runSweep = (
  config: string | undefined,
  options: Loose<SweepInput> & { at: string; progress?: boolean; today?: string },
) => {
  const { progress: _p, today, ...input } = options;
  return once(config, { today }, (e) => sweep(e, defined(input) as SweepInput, ctx()));
};

export const runExplain = (config: string | undefined, input: ExplainInput) =>
  once(config, {}, (e) => explain(e, defined(input), ctx()));

export const runExplainAll = (config: string | undefined, input: ExplainInput) =>
  once(config, {}, (e) => explainAll(e, defined(input), ctx()));

export const runPlan = (config: string | undefined, at: string) =>
  once(config, {}, (e) => plan(e, { at }, ctx()));

export const runPlanList = (
  config: string | undefined,
  options: { at: string; rule: string; status?: string; limit?: string; after?: string },
) =>
  once(config, {}, (e) =>
    planList(
      e,
      defined({
        at: options.at,
        rule: options.rule,
        status: options.status?.split(',').map((s) => s.trim()) as never,
        limit: options.limit === undefined ? undefined : Number(options.limit),
        after: options.after,
      }),
      ctx(),
    ),
  );

export const runForecast = (config: string | undefined, from: string, months: string) =>
  once(config, {}, (e) => forecast(e, { from, months: Number(months) }, ctx()));

export const runCheck = (config: string | undefined) => once(config, {}, (e) => check(e, {}, ctx()));

export const runAuditVerify = (config: string | undefined) =>
  once(config, {}, (e) => verifyAudit(e, {}, ctx()));

export const runAuditExport = (config: string | undefined) =>
  once(config, {}, (e) => exportAudit(e, {}, ctx()));

export const runStatus = (config: string | undefined, today?: string) =>
  once(config, { today }, (e) => status(e, {}, ctx()));

export const runArchiveRead = (
  config: string | undefined,
  table: string,
  id: string | undefined,
  reason: string,
  actor?: string,
) => once(config, {}, (e) => readArchive(e, defined({ table, id, reason }), ctx(actor)));

export const runAuditAcceptHead = (config: string | undefined, input: { reason: string; actor?: string }) =>
  once(config, {}, (e) => acceptHead(e, { reason: input.reason }, ctx(input.actor)));

export const runHoldAdd = (
  config: string | undefined,
  options: HoldAddInput & { today?: string; actor?: string },
) => {
  const { today, actor, ...input } = options;
  return once(config, { today }, (e) => addHold(e, defined(input), ctx(actor)));
};

export const runHoldList = (config: string | undefined, all: boolean, today?: string) =>
  once(config, { today }, (e) => listHolds(e, { all }, ctx()));

export const runHoldRelease = (config: string | undefined, id: number, actor?: string) =>
  once(config, {}, (e) => releaseHold(e, { id }, ctx(actor)));

export const runKeyGenerate = (out: string, options: { config?: string; cwd?: string } = {}) =>
  // Writes a file and opens nothing: the engine has nothing to close.
  generateKey(createEngine({ config: options.config }), defined({ out, cwd: options.cwd }), ctx());

/** A handle of an engine built for it alone: closing it closes the engine. */
function closingEngine<T extends object>(handle: T, engine: Engine): T {
  return new Proxy(handle, {
    get(target, property) {
      if (property === 'close') return () => engine.close();
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The state store of a project, as a command opens it; its close() closes all it opened. */
export async function openState(project: Project, mode: 'read' | 'write' = 'read'): Promise<StateStore> {
  const engine = createEngine({ config: project.loaded.file ?? undefined });
  return closingEngine(await engine.state(mode), engine);
}

/** The archive store of a project (created if needed); its close() closes all it opened. */
export async function openArchive(project: Project): Promise<Connection> {
  const engine = createEngine({ config: project.loaded.file ?? undefined });
  return closingEngine((await engine.archive()) as Connection, engine);
}

export const runKeyRotate = (config: string | undefined, to: string, actor?: string) =>
  once(config, {}, (e) => rotateKey(e, { to }, ctx(actor)));

/** The engine's state store and project for `f` (read, or write: checked whole, the key required). */
export const withState = <T>(
  config: string | undefined,
  mode: 'read' | 'write',
  f: (state: StateStore, project: Project) => Promise<T>,
) => once(config, {}, async (e) => f(await e.state(mode), await e.project()));

export const requestOpen = (
  config: string | undefined,
  options: Omit<Loose<OpenRequestInput>, 'type' | 'lang' | 'set'> & {
    set?: readonly string[];
    type: string;
    email: string;
    lang?: string;
    today?: string;
    actor?: string;
  },
) => {
  const { today, actor, set, ...input } = options;
  return once(config, { today }, (e) =>
    openRequest(
      e,
      // `--set field=value`, as the command line parses it.
      defined({ ...input, set: set === undefined ? undefined : parseSettings(set) }) as OpenRequestInput,
      ctx(actor),
    ),
  );
};

export const requestRun = (
  config: string | undefined,
  id: number,
  options: Loose<Omit<RunRequestInput, 'id'>> & { today?: string; actor?: string; delivery?: string } = {},
) => {
  const { today, actor, ...input } = options;
  return once(config, { today }, (e) =>
    runRequest(e, defined({ id, ...input }) as RunRequestInput, ctx(actor)),
  );
};

export const requestVerify = (
  config: string | undefined,
  id: number,
  how: Verification,
  options: { now?: Date; actor?: string; today?: string } = {},
) =>
  once(config, { today: options.today, now: options.now }, (e) =>
    verifyRequest(
      e,
      'manual' in how ? { id, manual: true, reason: how.reason } : { id, code: how.code },
      ctx(options.actor),
    ),
  );

export const requestShow = (config: string | undefined, id: number, today?: string) =>
  once(config, { today }, (e) => showRequest(e, { id }, ctx()));

export const requestList = (
  config: string | undefined,
  options: { overdue?: boolean; today?: string } = {},
) =>
  once(config, { today: options.today }, (e) =>
    listRequests(e, { overdue: options.overdue === true }, ctx()),
  );

export const requestExtend = (
  config: string | undefined,
  id: number,
  months: number,
  reason: string,
  options: { today?: string; actor?: string } = {},
) =>
  once(config, { today: options.today }, (e) => extendRequest(e, { id, months, reason }, ctx(options.actor)));

export const requestRefuse = (
  config: string | undefined,
  id: number,
  reason: string,
  options: { today?: string; actor?: string } = {},
) => once(config, { today: options.today }, (e) => refuseRequest(e, { id, reason }, ctx(options.actor)));

export const requestResendCode = (
  config: string | undefined,
  id: number,
  options: { actor?: string; now?: Date } = {},
) => once(config, { now: options.now }, (e) => resendCode(e, { id }, ctx(options.actor)));

export const requestSendLetters = (
  config: string | undefined,
  id: number,
  options: { email?: string; actor?: string; today?: string } = {},
) =>
  once(config, { today: options.today }, (e) =>
    sendLetters(e, defined({ id, email: options.email }), ctx(options.actor)),
  );

export const requestReplay = (
  config: string | undefined,
  options: { today?: string; actor?: string; dryRun?: boolean } = {},
) =>
  once(config, { today: options.today }, (e) =>
    replayErasures(e, { dryRun: options.dryRun === true }, ctx(options.actor)),
  );

export const runSuppressionAdd = (
  config: string | undefined,
  input: SuppressionAddInput & { today?: string; actor?: string },
) => {
  const { today, actor, ...rest } = input;
  return once(config, { today }, (e) => addSuppression(e, defined(rest), ctx(actor)));
};

export const runSuppressionCheck = (config: string | undefined, input: SuppressionCheckInput) =>
  once(config, {}, (e) => checkSuppression(e, defined(input), ctx()));

export const runFilterMailing = (config: string | undefined, input: FilterMailingInput) =>
  once(config, {}, (e) => filterMailing(e, defined(input), ctx()));

export const requestLift = (config: string | undefined, id: number, actor?: string) =>
  once(config, {}, (e) => liftRestriction(e, { id }, ctx(actor)));

export {
  requestExtend as extendRequest,
  requestLift as liftRestriction,
  requestList as listRequests,
  requestOpen as openRequest,
  requestRefuse as refuseRequest,
  requestReplay as replayErasures,
  requestResendCode as resendCode,
  requestRun as runRequest,
  requestSendLetters as sendLetters,
  requestShow as showRequest,
  requestVerify as verifyRequest,
};
