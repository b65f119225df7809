/**
 * Every use case of the engine, by name, with the zod schema of its input: what the CLI, the
 * HTTP API (its routes and OpenAPI document) and the scheduler call, and what the engine's test
 * calls one by one. `writes`: it changes the stores, the state or files (the API's `operate`
 * scope); `long`: it reports progress and honours the context's signal.
 */
import type { z } from 'zod';
import {
  AcceptHeadInput,
  ArchiveReadInput,
  acceptHead,
  exportAudit,
  readArchive,
  StatusInput,
  status,
  verifyAudit,
} from './audit.js';
import {
  BreachIdInput,
  DecideBreachInput,
  decideBreach,
  ExportBreachesInput,
  exportBreachRegister,
  InformBreachInput,
  informBreach,
  listBreaches,
  RecordBreachInput,
  recordBreach,
  showBreach,
} from './breaches.js';
import { check } from './check.js';
import {
  CheckConsentInput,
  ConsentSubjectInput,
  checkConsent,
  consentProof,
  consentStatus,
  ImportConsentsInput,
  importConsents,
  RecordConsentInput,
  recordConsent,
  WithdrawConsentInput,
  withdrawConsent,
} from './consent.js';
import { DemoInput, demo } from './demo.js';
import { DocumentInput, listDocuments, makeDocument, showRegister } from './documents.js';
import type { Context, Engine } from './engine.js';
import { explainAll } from './explain.js';
import { ExplainInput } from './explain-input.js';
import { ForecastFiguresInput, forecastFigures, PlanFiguresInput, planFigures } from './figures.js';
import { addHold, HoldAddInput, HoldListInput, HoldReleaseInput, listHolds, releaseHold } from './holds.js';
import { NoInput } from './input.js';
import { generateKey, KeyGenerateInput, KeyRotateInput, rotateKey } from './keys.js';
import { overview } from './overview.js';
import { ForecastInput, forecast, PlanInput, PlanListInput, plan, planList } from './plan.js';
import { InspectionReportInput, inspectionReport } from './report.js';
import {
  AskRequestInput,
  askRequest,
  CodeByAddressInput,
  sendCodeByAddress,
  VerifyByAddressInput,
  verifyByAddress,
} from './requests/by-address.js';
import { SendLettersInput, sendLetters } from './requests/letters.js';
import {
  ExtendRequestInput,
  extendRequest,
  ListRequestsInput,
  listRequests,
  OpenRequestInput,
  openRequest,
  RefuseRequestInput,
  RequestIdInput,
  refuseRequest,
  resendCode,
  showRequest,
  VerifyRequestInput,
  verifyRequest,
} from './requests/lifecycle.js';
import { listPackage, PackageFileInput, PackageInput, readPackageFile } from './requests/packages.js';
import { ReplayInput, replayErasures } from './requests/replay.js';
import { liftRestriction } from './requests/restriction.js';
import { runRequest } from './requests/run.js';
import { RunRequestInput } from './requests/shared.js';
import { ListScheduledRunsInput, listScheduledRuns, RunScheduledInput, runScheduled } from './scheduled.js';
import {
  addSuppression,
  checkSuppression,
  FilterMailingInput,
  filterMailing,
  SuppressionAddInput,
  SuppressionCheckInput,
} from './suppression.js';
import { SweepInput, sweep } from './sweep.js';
import { CreateTokenInput, createToken, listTokens, revokeToken, TokenNameInput } from './tokens.js';

export interface UseCase<S extends z.ZodType = z.ZodType, R = unknown> {
  readonly input: S;
  readonly run: (engine: Engine, input: z.input<S>, ctx: Context) => R | Promise<R>;
  readonly writes: boolean;
  readonly long?: boolean;
}

const useCase = <S extends z.ZodType, R>(u: UseCase<S, R>): UseCase<S, R> => u;

export const USE_CASES = {
  check: useCase({ input: NoInput, run: check, writes: false, long: true }),
  showRegister: useCase({ input: NoInput, run: showRegister, writes: false }),
  listDocuments: useCase({ input: NoInput, run: listDocuments, writes: false }),
  makeDocument: useCase({ input: DocumentInput, run: makeDocument, writes: false }),
  plan: useCase({ input: PlanInput, run: plan, writes: false }),
  planList: useCase({ input: PlanListInput, run: planList, writes: false }),
  forecast: useCase({ input: ForecastInput, run: forecast, writes: false }),
  planFigures: useCase({ input: PlanFiguresInput, run: planFigures, writes: false }),
  forecastFigures: useCase({ input: ForecastFiguresInput, run: forecastFigures, writes: false }),
  explain: useCase({ input: ExplainInput, run: explainAll, writes: false }),
  sweep: useCase({ input: SweepInput, run: sweep, writes: true, long: true }),
  addHold: useCase({ input: HoldAddInput, run: addHold, writes: true }),
  listHolds: useCase({ input: HoldListInput, run: listHolds, writes: false }),
  releaseHold: useCase({ input: HoldReleaseInput, run: releaseHold, writes: true }),
  verifyAudit: useCase({ input: NoInput, run: verifyAudit, writes: false }),
  exportAudit: useCase({ input: NoInput, run: exportAudit, writes: false }),
  acceptHead: useCase({ input: AcceptHeadInput, run: acceptHead, writes: true }),
  status: useCase({ input: StatusInput, run: status, writes: false }),
  overview: useCase({ input: NoInput, run: overview, writes: false }),
  inspectionReport: useCase({ input: InspectionReportInput, run: inspectionReport, writes: false }),
  readArchive: useCase({ input: ArchiveReadInput, run: readArchive, writes: true }),
  generateKey: useCase({ input: KeyGenerateInput, run: generateKey, writes: true }),
  rotateKey: useCase({ input: KeyRotateInput, run: rotateKey, writes: true }),
  demo: useCase({ input: DemoInput, run: demo, writes: true, long: true }),
  openRequest: useCase({ input: OpenRequestInput, run: openRequest, writes: true }),
  resendCode: useCase({ input: RequestIdInput, run: resendCode, writes: true }),
  verifyRequest: useCase({ input: VerifyRequestInput, run: verifyRequest, writes: true }),
  askRequest: useCase({ input: AskRequestInput, run: askRequest, writes: true }),
  sendCodeByAddress: useCase({ input: CodeByAddressInput, run: sendCodeByAddress, writes: true }),
  verifyByAddress: useCase({ input: VerifyByAddressInput, run: verifyByAddress, writes: true }),
  runRequest: useCase({ input: RunRequestInput, run: runRequest, writes: true }),
  listPackage: useCase({ input: PackageInput, run: listPackage, writes: false }),
  readPackageFile: useCase({ input: PackageFileInput, run: readPackageFile, writes: false }),
  listRequests: useCase({ input: ListRequestsInput, run: listRequests, writes: false }),
  showRequest: useCase({ input: RequestIdInput, run: showRequest, writes: false }),
  extendRequest: useCase({ input: ExtendRequestInput, run: extendRequest, writes: true }),
  refuseRequest: useCase({ input: RefuseRequestInput, run: refuseRequest, writes: true }),
  sendLetters: useCase({ input: SendLettersInput, run: sendLetters, writes: true }),
  liftRestriction: useCase({ input: RequestIdInput, run: liftRestriction, writes: true }),
  replayErasures: useCase({ input: ReplayInput, run: replayErasures, writes: true, long: true }),
  recordConsent: useCase({ input: RecordConsentInput, run: recordConsent, writes: true }),
  importConsents: useCase({ input: ImportConsentsInput, run: importConsents, writes: true, long: true }),
  consentStatus: useCase({ input: ConsentSubjectInput, run: consentStatus, writes: false }),
  checkConsent: useCase({ input: CheckConsentInput, run: checkConsent, writes: false }),
  consentProof: useCase({ input: ConsentSubjectInput, run: consentProof, writes: false }),
  withdrawConsent: useCase({ input: WithdrawConsentInput, run: withdrawConsent, writes: true }),
  addSuppression: useCase({ input: SuppressionAddInput, run: addSuppression, writes: true }),
  checkSuppression: useCase({ input: SuppressionCheckInput, run: checkSuppression, writes: false }),
  filterMailing: useCase({ input: FilterMailingInput, run: filterMailing, writes: true, long: true }),
  createToken: useCase({ input: CreateTokenInput, run: createToken, writes: true }),
  listTokens: useCase({ input: NoInput, run: listTokens, writes: false }),
  revokeToken: useCase({ input: TokenNameInput, run: revokeToken, writes: true }),
  runScheduled: useCase({ input: RunScheduledInput, run: runScheduled, writes: true, long: true }),
  listScheduledRuns: useCase({ input: ListScheduledRunsInput, run: listScheduledRuns, writes: false }),
  recordBreach: useCase({ input: RecordBreachInput, run: recordBreach, writes: true }),
  listBreaches: useCase({ input: NoInput, run: listBreaches, writes: false }),
  showBreach: useCase({ input: BreachIdInput, run: showBreach, writes: false }),
  decideBreach: useCase({ input: DecideBreachInput, run: decideBreach, writes: true }),
  informBreach: useCase({ input: InformBreachInput, run: informBreach, writes: true }),
  exportBreachRegister: useCase({ input: ExportBreachesInput, run: exportBreachRegister, writes: true }),
} as const;

export type UseCaseName = keyof typeof USE_CASES;
