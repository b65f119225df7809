/**
 * registre as a library: build one engine per process, call its use cases with typed inputs and
 * a context naming the actor, close it.
 *
 *   import { createEngine, plan } from 'registre';
 *   const engine = createEngine({ config: 'shop/registre.yaml' });
 *   try {
 *     const today = await plan(engine, { at: '2026-11-27' }, { actor: 'script:nightly' });
 *   } finally {
 *     await engine.close();
 *   }
 */
export {
  type AcceptHeadInput,
  type ArchiveReadInput,
  type AuditVerification,
  acceptHead,
  exportAudit,
  type HeadAccepted,
  readArchive,
  type Status,
  status,
  verifyAudit,
} from './app/audit.js';
export { type CheckReport, check } from './app/check.js';
export {
  type CheckConsentInput,
  type ConsentImported,
  type ConsentProof,
  type ConsentRecorded,
  type ConsentStatus,
  type ConsentStatusLine,
  type ConsentSubjectInput,
  checkConsent,
  consentProof,
  consentStatus,
  type ImportConsentsInput,
  importConsents,
  type RecordConsentInput,
  recordConsent,
  type WithdrawConsentInput,
  withdrawConsent,
} from './app/consent.js';
export { type DemoInput, type DemoReport, demo } from './app/demo.js';
export {
  type Clock,
  type Context,
  createEngine,
  type Engine,
  type EngineOptions,
  type ProgressEvent,
  systemClock,
  withEngine,
} from './app/engine.js';
export {
  type ExplainInput,
  type ExplainResult,
  explain,
  explainAll,
  type GoneRecord,
  type KeptBy,
} from './app/explain.js';
export {
  addHold,
  type HoldAddInput,
  type HoldCase,
  type HoldListInput,
  type HoldReleaseInput,
  listHolds,
  releaseHold,
} from './app/holds.js';
export { NoInput, parseInput } from './app/input.js';
export {
  generateKey,
  type KeyGenerated,
  type KeyGenerateInput,
  type KeyRotateInput,
  rotateKey,
} from './app/keys.js';
export {
  type Forecast,
  type ForecastInput,
  forecast,
  type Plan,
  type PlanInput,
  type PlanListInput,
  type PlanListing,
  plan,
  planList,
} from './app/plan.js';
export {
  extendRequest,
  liftRestriction,
  listRequests,
  type OpenRequestInput,
  openRequest,
  type RequestView,
  type RunResult,
  refuseRequest,
  replayErasures,
  resendCode,
  runRequest,
  sendLetters,
  showRequest,
  verifyRequest,
} from './app/requests/index.js';
export {
  alertsTo,
  dayIn,
  type ListScheduledRunsInput,
  listScheduledRuns,
  type RunScheduledInput,
  runScheduled,
  SCHEDULED_JOBS,
  type ScheduledJob,
  type ScheduledRunResult,
  type ScheduledRunView,
  type SchedulerSettings,
  schedulerSettings,
} from './app/scheduled.js';
export {
  addSuppression,
  checkSuppression,
  type FilterMailingInput,
  filterMailing,
  type MailingFiltered,
  type SuppressionAdded,
  type SuppressionAddInput,
  type SuppressionChecked,
  type SuppressionCheckInput,
} from './app/suppression.js';
export { type SweepInput, type SweepReport, sweep } from './app/sweep.js';
export { USE_CASES, type UseCase, type UseCaseName } from './app/use-cases.js';
export {
  ERROR_CATALOGUE,
  ERROR_KINDS,
  type ErrorCode,
  type ErrorKind,
  fieldsAs,
  RegistreError,
} from './core/errors.js';
