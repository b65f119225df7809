/**
 * The API's endpoints, one line each: a method and path, the use case it calls (its zod schema is
 * the input, validated by the use case and documented in the OpenAPI document), the scope a token
 * needs, and what a token limited to one controller (a distributor) may do with it.
 */
import type { UseCaseName } from '../app/use-cases.js';

export type Access = 'read' | 'operate' | 'admin';

/**
 * What a distributor's token may do on an endpoint: nothing (the default), list or read the
 * requests forwarded to it (only what it was forwarded), run an erasure on its own instruction,
 * or explain a record it is the controller of.
 */
export type ControllerAccess = 'requests' | 'instruction' | 'explain';

export interface Route {
  readonly method: 'get' | 'post' | 'delete';
  /** OpenAPI's form: `/api/requests/{id}`. */
  readonly path: string;
  readonly useCase: UseCaseName;
  readonly access: Access;
  readonly summary: string;
  readonly tag: string;
  /** Inputs given today's date when the call leaves them out. */
  readonly today?: readonly string[];
  readonly controller?: ControllerAccess;
  /** The answer is a file (`{ name, content }`), sent as a download of its type. */
  readonly file?: true;
  /** A package the use case writes goes to a new folder of the service's (`out`), never one a caller names. */
  readonly package?: true;
}

const r = (
  method: Route['method'],
  path: string,
  useCase: UseCaseName,
  access: Access,
  tag: string,
  summary: string,
  extra: Partial<Pick<Route, 'today' | 'controller' | 'file' | 'package'>> = {},
): Route => ({ method, path, useCase, access, tag, summary, ...extra });

export const ADMIN_ROUTES: readonly Route[] = [
  r(
    'get',
    '/api/status',
    'status',
    'read',
    'audit',
    'The state store, the audit log and the last sweeps, at a glance.',
  ),
  r(
    'get',
    '/api/overview',
    'overview',
    'read',
    'audit',
    "What the DPO reads first: records past their deadline, the next months' deletions, open requests, the last and next sweep, the last check, the holds, the breaches still to decide.",
  ),
  r(
    'get',
    '/api/register',
    'showRegister',
    'read',
    'register',
    'The register the configuration names, with its validation issues.',
  ),
  r(
    'get',
    '/api/documents',
    'listDocuments',
    'read',
    'register',
    'The documents made from the register (notice, art. 30 records, DPV), by file name.',
  ),
  r(
    'get',
    '/api/documents/{name}',
    'makeDocument',
    'read',
    'register',
    'One document, made now from the register: privacy-notice.fr.html, art30-controller.en.csv, art30.fr.xlsx, register.dpv.jsonld…',
    { file: true },
  ),
  r('post', '/api/check', 'check', 'read', 'retention', 'Compares the data map with the live databases.'),
  r(
    'get',
    '/api/plan',
    'planFigures',
    'read',
    'retention',
    "What each rule holds on a day (default today: today's figures, with the time they were counted; fresh=true counts again).",
  ),
  r(
    'get',
    '/api/plan/records',
    'planList',
    'read',
    'retention',
    'The records of one rule in a status, on a day.',
    {
      today: ['at'],
    },
  ),
  r(
    'get',
    '/api/forecast',
    'forecastFigures',
    'read',
    'retention',
    "The records each rule will make due, month by month (this month's figures kept; fresh=true counts again).",
  ),
  r(
    'get',
    '/api/explain',
    'explain',
    'read',
    'retention',
    'Why a record, or every record of a person, is kept or due.',
    {
      today: ['at'],
      controller: 'explain',
    },
  ),
  r(
    'post',
    '/api/sweeps',
    'sweep',
    'operate',
    'retention',
    'Runs a sweep (or its dry run) for a day (default today).',
    {
      today: ['at'],
    },
  ),
  r('get', '/api/holds', 'listHolds', 'read', 'holds', 'The holds in force (or all).'),
  r('post', '/api/holds', 'addHold', 'operate', 'holds', 'Holds a record, or every record of a person.'),
  r('delete', '/api/holds/{id}', 'releaseHold', 'operate', 'holds', 'Releases a hold.'),
  r('get', '/api/requests', 'listRequests', 'read', 'requests', "People's requests, overdue first.", {
    controller: 'requests',
  }),
  r(
    'post',
    '/api/requests',
    'openRequest',
    'operate',
    'requests',
    "Opens a request on a person's behalf; sends the identity code.",
  ),
  r('get', '/api/requests/{id}', 'showRequest', 'read', 'requests', 'One request.', {
    controller: 'requests',
  }),
  r('post', '/api/requests/{id}/code', 'resendCode', 'operate', 'requests', 'Sends a new identity code.'),
  r(
    'post',
    '/api/requests/{id}/verify',
    'verifyRequest',
    'operate',
    'requests',
    "Verifies the person's identity.",
  ),
  r(
    'post',
    '/api/requests/{id}/run',
    'runRequest',
    'operate',
    'requests',
    'Runs a verified request (or, for a distributor, its own instruction).',
    { controller: 'instruction', package: true },
  ),
  r(
    'get',
    '/api/requests/{id}/package',
    'listPackage',
    'operate',
    'requests',
    "The files of an access or portability request's package, as its last run wrote them.",
  ),
  r(
    'get',
    '/api/requests/{id}/package/{name}',
    'readPackageFile',
    'operate',
    'requests',
    "One file of the request's package (access.json, access.html, a table's CSV, a record's file).",
    { file: true },
  ),
  r(
    'post',
    '/api/requests/{id}/extend',
    'extendRequest',
    'operate',
    'requests',
    'Extends the deadline (art. 12(3)), with its reason.',
  ),
  r(
    'post',
    '/api/requests/{id}/refuse',
    'refuseRequest',
    'operate',
    'requests',
    'Refuses a request (art. 12(5)), with its reason.',
  ),
  r(
    'post',
    '/api/requests/{id}/lift-restriction',
    'liftRestriction',
    'operate',
    'requests',
    'Lifts a restriction of processing.',
  ),
  r(
    'post',
    '/api/consents',
    'recordConsent',
    'operate',
    'consents',
    'Records a consent event (given, refused, withdrawn).',
  ),
  r(
    'post',
    '/api/consents/withdraw',
    'withdrawConsent',
    'operate',
    'consents',
    "Withdraws a subject's consent, for some purposes or all.",
  ),
  r(
    'get',
    '/api/consents/status',
    'consentStatus',
    'read',
    'consents',
    "A subject's consent, purpose by purpose.",
  ),
  r(
    'get',
    '/api/consents/check',
    'checkConsent',
    'read',
    'consents',
    'Whether a consent is current for a purpose.',
  ),
  r(
    'get',
    '/api/consents/proof',
    'consentProof',
    'read',
    'consents',
    "A subject's consent events, with the notice each was given under.",
  ),
  r(
    'post',
    '/api/suppression',
    'addSuppression',
    'operate',
    'suppression',
    'Puts an address on the suppression list.',
  ),
  r(
    'get',
    '/api/suppression/check',
    'checkSuppression',
    'read',
    'suppression',
    'Whether an address is on the suppression list.',
  ),
  r(
    'get',
    '/api/breaches',
    'listBreaches',
    'read',
    'breaches',
    'The register of breaches: overdue first, then those to decide by their 72-hour deadline, then the decided.',
  ),
  r(
    'post',
    '/api/breaches',
    'recordBreach',
    'operate',
    'breaches',
    'Records a personal data breach: what it touched is counted in the stores through the data map; its deadline to notify the CNIL is 72 hours after its discovery.',
  ),
  r(
    'get',
    '/api/breaches/{id}',
    'showBreach',
    'read',
    'breaches',
    'One breach, where it stands, and the letter to its people in French and English.',
  ),
  r(
    'post',
    '/api/breaches/{id}/notification',
    'decideBreach',
    'operate',
    'breaches',
    'The decision to notify the CNIL (art. 33) or not, with its reason; the notification date and reference.',
  ),
  r(
    'post',
    '/api/breaches/{id}/people',
    'informBreach',
    'operate',
    'breaches',
    'Whether the people are told (art. 34), with the reason when not.',
  ),
  r(
    'get',
    '/api/breach-register',
    'exportBreachRegister',
    'read',
    'breaches',
    "The register of breaches in the CNIL model's columns (format=html, csv or xlsx; lang=fr or en).",
    { file: true },
  ),
  r(
    'get',
    '/api/audit/verify',
    'verifyAudit',
    'read',
    'audit',
    'Verifies the audit log against its checkpoint.',
  ),
  r('get', '/api/audit/export', 'exportAudit', 'read', 'audit', 'The audit log, every entry.'),
  r(
    'get',
    '/api/report',
    'inspectionReport',
    'read',
    'audit',
    'The inspection report of a period (default the last twelve months): the controller, the sweeps and what each changed by rule, the requests with their dates and outcomes, the holds, the key rotations, the tokens and sign-ins, and the audit log verified now against its checkpoint.',
  ),
  r(
    'post',
    '/api/audit/accept-head',
    'acceptHead',
    'admin',
    'audit',
    'Accepts the log as it is now (the DPO, after investigating).',
  ),
  r(
    'get',
    '/api/schedule/runs',
    'listScheduledRuns',
    'read',
    'schedule',
    'The scheduled runs (sweep, check, reminders), newest first.',
  ),
  r(
    'post',
    '/api/schedule/runs',
    'runScheduled',
    'operate',
    'schedule',
    'Runs a scheduled job now, for a day (once per day: a run already done is not run again).',
  ),
  r('get', '/api/tokens', 'listTokens', 'admin', 'tokens', 'The API tokens (names, scopes; never a secret).'),
  r(
    'post',
    '/api/tokens',
    'createToken',
    'admin',
    'tokens',
    'Creates a token; its secret is in the answer, once.',
  ),
  r('delete', '/api/tokens/{name}', 'revokeToken', 'admin', 'tokens', 'Revokes a token.'),
];
