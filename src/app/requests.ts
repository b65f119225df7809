/**
 * People's requests (GDPR art. 12, 15 to 21): open, verify the person's identity, carry out,
 * extend, refuse; and `erasure replay` after a backup is restored. Every step is an audit entry
 * with its actor and the person's keyed hash, never an address or a name.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readHmacKey } from '../adapters/files/config-paths.js';
import { sendMail } from '../adapters/mail/mailer.js';
import type { Connection } from '../adapters/sql/connect.js';
import { type Explanation, explainRecord, findPerson, normaliseEmail } from '../adapters/sql/explain.js';
import {
  applyChanges,
  archivedRows,
  controllerOf,
  deleteArchived,
  otherData,
  personalData,
  rectifyRows,
  restoredRows,
  rowsByKey,
  type StoreChange,
  statusesOf,
} from '../adapters/sql/person.js';
import { retentionContext } from '../adapters/sql/retention-sql.js';
import { addToSuppressionList } from '../adapters/sql/sweep.js';
import {
  currentActor,
  type ErasureRow,
  type RequestRow,
  type StateStore,
} from '../adapters/state/state-store.js';
import { hmacHex } from '../core/audit/keys.js';
import { csvCell } from '../core/csv.js';
import { columnOf, columnOfField } from '../core/datamap/columns.js';
import type { StoreMap, TableMap } from '../core/datamap/datamap-schema.js';
import { RegistreError } from '../core/errors.js';
import type { Register } from '../core/register/register-load.js';
import type { RetentionRule } from '../core/register/register-schema.js';
import { type AccessPackage, accessHtml } from '../core/requests/access-html.js';
import {
  CODE_ATTEMPTS,
  CODE_TTL_MINUTES,
  daysLeft,
  dueDate,
  type ErasureDecision,
  erasureDecision,
  extensionDue,
  isOpen,
  parseSettings,
  REQUEST_TYPES,
  type RequestStatus,
  type RequestType,
  requireEmail,
} from '../core/requests/requests.js';
import { requireDateInput } from '../core/retention/calendar.js';
import { safeMessage } from '../core/safe-message.js';

import { localise } from '../core/text.js';
import { archivedExplanation, archiveHolds, byRecordKey, manualHolds } from './explain.js';
import { recordHold, releaseHoldCase } from './holds.js';
import { archiveFilesDir, connectStore, foldersOf, openProject, type Project } from './project.js';
import { openArchive, openState, personArchive, todayUtc, withState } from './stores.js';

type Row = Record<string, unknown>;

/** A request as commands show it (no address: the person is their keyed hash). */
export interface RequestView {
  readonly id: number;
  readonly type: RequestType;
  readonly status: RequestStatus;
  readonly received: string;
  readonly due: string;
  readonly daysLeft: number;
  readonly overdue: boolean;
  readonly person: string;
  readonly purpose?: string;
  readonly extended?: { readonly months: number; readonly reason: string };
  readonly refused?: string;
  readonly outcome?: Record<string, unknown>;
}

function viewOf(row: RequestRow, today: string): RequestView {
  const details = row.details as { purpose?: string; extension?: string; refused?: string };
  const left = daysLeft(row.due, today);
  const open = isOpen(row.status as RequestStatus);
  return {
    id: row.id,
    type: row.type as RequestType,
    status: row.status as RequestStatus,
    received: row.received,
    due: row.due,
    daysLeft: left,
    overdue: open && left < 0,
    person: row.person,
    ...(details.purpose ? { purpose: details.purpose } : {}),
    ...(row.extendedMonths
      ? { extended: { months: row.extendedMonths, reason: details.extension ?? '' } }
      : {}),
    ...(details.refused ? { refused: details.refused } : {}),
    ...(row.outcome ? { outcome: row.outcome } : {}),
  };
}

function requireKey(project: Project): Buffer {
  const key = readHmacKey(project.loaded);
  if (!key)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      'requests refer to people by a keyed hash: set hmacKey in the configuration (registre key generate)',
    );
  return key;
}

async function requireRequest(state: StateStore, id: number): Promise<RequestRow> {
  const row = await state.request(id);
  if (!row)
    throw new RegistreError('E_NOT_FOUND', `there is no request ${id}; registre request list shows them`);
  return row;
}

export function parseRequestId(text: string): number {
  if (!/^\d{1,9}$/.test(text.trim()))
    throw new RegistreError(
      'E_USAGE',
      `"${text}" is not a request id (a whole number, as request list shows)`,
    );
  return Number(text);
}

function purposeOf(register: Register, id: string) {
  for (const activity of register.activities) {
    const purpose = activity.purposes.find((p) => p.id === id);
    if (purpose) return { activity, purpose };
  }
  return undefined;
}

export interface OpenOptions {
  readonly type: string;
  readonly email: string;
  readonly received?: string;
  readonly purpose?: string;
  readonly set?: readonly string[];
  readonly today?: string;
  readonly actor?: string;
}

/** Opens a request and sends the identity code to the address (SMTP, or the outbox). */
export async function openRequest(
  configFile: string | undefined,
  options: OpenOptions,
): Promise<RequestView> {
  if (!(REQUEST_TYPES as readonly string[]).includes(options.type))
    throw new RegistreError('E_USAGE', `--type ${options.type}: one of ${REQUEST_TYPES.join(', ')}`);
  const type = options.type as RequestType;
  const email = requireEmail(options.email);
  const today = options.today ?? todayUtc();
  const received = options.received ? requireDateInput('--received', options.received) : today;
  if (received > today)
    throw new RegistreError('E_USAGE', `--received ${received} is after today (${today})`);
  const details: Record<string, unknown> = {};
  if (type === 'objection') {
    if (!options.purpose)
      throw new RegistreError('E_USAGE', 'an objection names the purpose objected to: --purpose P');
  }
  return withState(configFile, 'write', async (state, project) => {
    const key = requireKey(project);
    if (options.purpose !== undefined) {
      const found = purposeOf(project.register, options.purpose);
      if (!found)
        throw new RegistreError(
          'E_USAGE',
          `--purpose ${options.purpose}: no such purpose in the register (${project.register.activities
            .flatMap((a) => a.purposes.map((p) => p.id))
            .join(', ')})`,
        );
      const { purpose } = found;
      if (
        type === 'objection' &&
        purpose.legalBasis !== 'legitimate-interest' &&
        !purpose.tags?.includes('direct-marketing')
      )
        throw new RegistreError(
          'E_USAGE',
          `--purpose ${purpose.id} rests on ${purpose.legalBasis}: art. 21 objection applies to legitimate interest and direct marketing; consent is withdrawn, a contract or a legal obligation is not objected to`,
        );
      details.purpose = purpose.id;
    }
    if (type === 'rectification') {
      const set = parseSettings(options.set ?? []);
      if (set.email !== undefined) set.email = requireEmail(set.email);
      if (Object.keys(set).length === 0)
        throw new RegistreError('E_USAGE', 'a rectification says what to correct: --set field=value');
      const unknown = Object.keys(set).filter(
        (field) =>
          !project.datamap.stores.some((s) =>
            s.tables.some((table) => {
              const column = columnOfField(table, field);
              return column !== undefined && table.columns[column] !== undefined;
            }),
          ),
      );
      if (unknown.length)
        throw new RegistreError(
          'E_USAGE',
          `--set ${unknown.join(', ')}: no table of the data map holds such a field`,
        );
      details.set = set;
    }
    const person = hmacHex(key, email);
    const duplicate = (await state.requests({ person })).find(
      (r) => r.type === type && isOpen(r.status as RequestStatus),
    );
    if (duplicate)
      throw new RegistreError(
        'E_DUPLICATE',
        `request ${duplicate.id} (${type}, received ${duplicate.received}) of the same person is still open: this one is a duplicate`,
      );
    const row = await state.addRequest({
      type,
      status: 'received',
      email,
      person,
      received,
      due: dueDate(received),
      extendedMonths: 0,
      details,
    });
    const actor = options.actor ?? currentActor();
    await state.audit('request.open', { request: row.id, type, person, received, due: row.due, actor });
    await sendCode(state, project, row, actor);
    return viewOf(await requireRequest(state, row.id), today);
  });
}

/** A new code, valid 15 minutes, stored as its keyed hash, sent to the request's address. */
async function sendCode(
  state: StateStore,
  project: Project,
  row: RequestRow,
  actor: string,
  now = new Date(),
) {
  if (!row.email) throw new RegistreError('E_REQUEST_CLOSED', `request ${row.id} no longer holds an address`);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const expires = new Date(now.getTime() + CODE_TTL_MINUTES * 60_000).toISOString();
  await state.updateRequest(row.id, {
    codeHash: state.digest(`code:${row.id}:${code}`),
    codeExpiresAt: expires,
    attempts: 0,
  });
  const org = project.register.organisation;
  const from = org?.rights?.email ?? org?.dpo?.email ?? org?.contact?.email ?? 'dpo@localhost';
  const sent = await sendMail(project.loaded.config.mail, project.loaded.dir, from, {
    to: row.email,
    subject: `Votre demande n° ${row.id} / Your request no. ${row.id}`,
    text: [
      `Votre code de vérification est ${code}. Il est valable ${CODE_TTL_MINUTES} minutes.`,
      `Your verification code is ${code}. It is valid for ${CODE_TTL_MINUTES} minutes.`,
      '',
      `${org?.name ?? ''}`,
    ].join('\n'),
  });
  await state.audit('request.code', {
    request: row.id,
    person: row.person,
    via: sent.via === 'smtp' ? 'smtp' : 'outbox',
    expires,
    actor,
  });
}

export async function resendCode(
  configFile: string | undefined,
  id: number,
  actor = currentActor(),
): Promise<void> {
  await withState(configFile, 'write', async (state, project) => {
    requireKey(project);
    const row = await requireRequest(state, id);
    if (row.status !== 'received')
      throw new RegistreError('E_REQUEST_STATE', `request ${id} is ${row.status}: no code to send`);
    await sendCode(state, project, row, actor);
  });
}

export type Verification = { readonly code: string } | { readonly manual: true; readonly reason: string };

/**
 * Checks the code (15 minutes, 5 attempts: the fifth wrong one locks the request, then only the
 * DPO's manual verification opens it), or records the DPO's manual verification with its reason.
 */
export async function verifyRequest(
  configFile: string | undefined,
  id: number,
  how: Verification,
  options: { now?: Date; actor?: string; today?: string } = {},
): Promise<RequestView> {
  const now = options.now ?? new Date();
  const actor = options.actor ?? currentActor();
  return withState(configFile, 'write', async (state, project) => {
    requireKey(project);
    const row = await requireRequest(state, id);
    if (row.status === 'verified')
      throw new RegistreError('E_REQUEST_STATE', `request ${id} is already verified`);
    if (row.status === 'done' || row.status === 'refused')
      throw new RegistreError('E_REQUEST_CLOSED', `request ${id} is ${row.status}`);
    if ('manual' in how) {
      if (how.reason.trim() === '')
        throw new RegistreError(
          'E_USAGE',
          'a manual verification says how the identity was checked: --reason TEXT',
        );
      const reason = await state.keepReason(how.reason);
      await state.updateRequest(id, { status: 'verified', codeHash: null, codeExpiresAt: null });
      await state.audit('request.verify', {
        request: id,
        person: row.person,
        method: 'manual',
        reason,
        actor,
      });
      return viewOf(await requireRequest(state, id), options.today ?? todayUtc());
    }
    if (row.status === 'locked')
      throw new RegistreError(
        'E_LOCKED',
        `request ${id} is locked after ${CODE_ATTEMPTS} wrong codes: the DPO verifies the identity by other means (request verify ${id} --manual --reason …)`,
      );
    if (!row.codeHash || !row.codeExpiresAt)
      throw new RegistreError(
        'E_NO_CODE',
        `request ${id} has no code pending: send one with request send-code ${id}`,
      );
    if (now.toISOString() > row.codeExpiresAt)
      throw new RegistreError(
        'E_CODE_EXPIRED',
        `the code of request ${id} expired at ${row.codeExpiresAt}: send a new one with request send-code ${id}`,
      );
    if (!/^\d{6}$/.test(how.code.trim()) || state.digest(`code:${id}:${how.code.trim()}`) !== row.codeHash) {
      const attempts = row.attempts + 1;
      const locked = attempts >= CODE_ATTEMPTS;
      await state.updateRequest(id, { attempts, ...(locked ? { status: 'locked', codeHash: null } : {}) });
      await state.audit(locked ? 'request.locked' : 'request.verify-failed', {
        request: id,
        person: row.person,
        attempts,
        actor,
      });
      throw new RegistreError(
        locked ? 'E_LOCKED' : 'E_WRONG_CODE',
        locked
          ? `wrong code, the ${CODE_ATTEMPTS}th: request ${id} is locked; the DPO verifies the identity by other means`
          : `wrong code for request ${id}: ${CODE_ATTEMPTS - attempts} attempt(s) left`,
      );
    }
    await state.updateRequest(id, { status: 'verified', codeHash: null, codeExpiresAt: null });
    await state.audit('request.verify', { request: id, person: row.person, method: 'code', actor });
    return viewOf(await requireRequest(state, id), options.today ?? todayUtc());
  });
}

export async function listRequests(
  configFile: string | undefined,
  options: { overdue?: boolean; today?: string } = {},
): Promise<RequestView[]> {
  const today = options.today ?? todayUtc();
  return withState(configFile, 'read', async (state) => {
    const views = (await state.requests()).map((r) => viewOf(r, today));
    const shown = options.overdue ? views.filter((v) => v.overdue) : views;
    // Overdue first, then the open ones by days left, then the closed ones.
    const rank = (v: RequestView) => (v.overdue ? 0 : isOpen(v.status) ? 1 : 2);
    return shown.sort((a, b) => rank(a) - rank(b) || a.daysLeft - b.daysLeft || a.id - b.id);
  });
}

export async function showRequest(configFile: string | undefined, id: number, today = todayUtc()) {
  return withState(configFile, 'read', async (state) => viewOf(await requireRequest(state, id), today));
}

export async function extendRequest(
  configFile: string | undefined,
  id: number,
  months: number,
  reason: string,
  options: { today?: string; actor?: string } = {},
): Promise<RequestView> {
  const today = options.today ?? todayUtc();
  return withState(configFile, 'write', async (state) => {
    const row = await requireRequest(state, id);
    const due = extensionDue(
      { received: row.received, extendedMonths: row.extendedMonths, status: row.status as RequestStatus },
      months,
      reason,
      today,
    );
    await state.updateRequest(id, {
      due,
      extendedMonths: months,
      details: { ...row.details, extension: reason },
    });
    await state.audit('request.extend', {
      request: id,
      person: row.person,
      months,
      due,
      reason: await state.keepReason(reason),
      actor: options.actor ?? currentActor(),
    });
    return viewOf(await requireRequest(state, id), today);
  });
}

export async function refuseRequest(
  configFile: string | undefined,
  id: number,
  reason: string,
  options: { today?: string; actor?: string } = {},
): Promise<RequestView> {
  if (reason.trim() === '')
    throw new RegistreError('E_USAGE', 'a refusal gives its reason (art. 12(4)): --reason TEXT');
  return withState(configFile, 'write', async (state) => {
    const row = await requireRequest(state, id);
    if (!isOpen(row.status as RequestStatus))
      throw new RegistreError('E_REQUEST_CLOSED', `request ${id} is already ${row.status}`);
    await state.updateRequest(id, { status: 'refused', details: { ...row.details, refused: reason } });
    await state.audit('request.refuse', {
      request: id,
      person: row.person,
      reason: await state.keepReason(reason),
      actor: options.actor ?? currentActor(),
    });
    return viewOf(await requireRequest(state, id), options.today ?? todayUtc());
  });
}

// ---------------------------------------------------------------------------------------------
// The person's records, as `explain` sees them

/** One record of the person, with what the request needs to decide about it. */
export interface PersonItem {
  readonly store: StoreMap;
  readonly table: TableMap;
  readonly id: string;
  readonly row: Row;
  readonly archived: boolean;
  readonly explanation: Explanation;
  readonly restricted: boolean;
  readonly controller: { readonly id: string; readonly name: string } | null;
}

/** Every record of the person in every store and in the archive, each explained on `at`. */
async function personItems(
  project: Project,
  state: StateStore,
  email: string,
  at: string,
  key: Buffer,
  conns: Map<string, Connection>,
  archive: Connection | undefined,
): Promise<PersonItem[]> {
  const holds = await state.holds({ at });
  const person = hmacHex(key, normaliseEmail(email));
  const kept = (await state.erasures())
    .filter((e) => e.person === person)
    .flatMap((e) => e.records.filter((r) => r.action === 'keep'));
  const manual = manualHolds(holds);
  const items: PersonItem[] = [];
  for (const store of project.datamap.stores) {
    const conn = conns.get(store.id) as Connection;
    const ctx = await retentionContext(conn, project.register, project.datamap);
    const manualOf = byRecordKey(project, store.id, manual);
    const found = (await findPerson(conn, ctx, store, email, key, archive)).filter((r) => r.table.record);
    // What an earlier erasure kept (invoices, held records) is no longer reached from the address
    // (the account that linked it is gone): the state store remembers it by the person's hash.
    const seen = new Set(found.map((r) => `${r.archived ? 'archive:' : ''}${r.table.name}:${r.id}`));
    for (const r of kept)
      if (r.store === store.id && !seen.has(`${r.table}:${r.key}`)) {
        const table = store.tables.find((t) => t.name === r.table);
        if (table?.record) {
          found.push({ table, id: r.key });
          seen.add(`${r.table}:${r.key}`);
        }
      }
    const byTable = new Map<TableMap, { live: string[]; archived: string[] }>();
    for (const r of found) {
      const entry = byTable.get(r.table) ?? { live: [], archived: [] };
      (r.archived ? entry.archived : entry.live).push(r.id);
      byTable.set(r.table, entry);
    }
    for (const [table, keys] of byTable) {
      const live = await rowsByKey(conn, table, keys.live);
      const arch = archive
        ? await archivedRows(archive, store, table, keys.archived)
        : new Map<string, Row>();
      for (const id of keys.live) {
        const row = live.get(id);
        if (!row) continue;
        // One record at a time: measured faster than the sweep's verdict query over a few keys
        // (a large statement to compile and prepare for each person).
        const explanation = await explainRecord(conn, ctx, store, table, id, at, manualOf);
        items.push({
          store,
          table,
          id,
          row,
          archived: false,
          explanation,
          restricted: explanation.holds.some((h) => h.restriction === true),
          controller: explanation.processor ? await controllerOf(conn, ctx, table, row) : null,
        });
      }
      const dataHeld = keys.archived.length ? await archiveHolds(conn, ctx, table) : () => [];
      for (const id of keys.archived) {
        const row = arch.get(id);
        if (!row) continue;
        const explanation = archivedExplanation(
          project.register,
          table,
          id,
          { rule: String(row.rule), deadline: String(row.deadline), archivedAt: String(row.archived_at) },
          at,
          [...manual(store.id, table.name, id), ...dataHeld(id)],
        );
        items.push({
          store,
          table,
          id,
          row,
          archived: true,
          explanation,
          restricted: explanation.holds.some((h) => h.restriction === true),
          controller: null,
        });
      }
    }
  }
  return items;
}

/** Opens the stores (and the archive when there is one) for one request, then closes them. */
async function withPersonStores<T>(
  project: Project,
  write: boolean,
  f: (conns: Map<string, Connection>, archive: Connection | undefined) => Promise<T>,
): Promise<T> {
  const conns = new Map<string, Connection>();
  let archive: Connection | undefined;
  try {
    for (const store of project.datamap.stores) conns.set(store.id, await connectStore(project, store));
    archive = write ? await openArchive(project) : await personArchive(project);
    return await f(conns, archive);
  } finally {
    await archive?.close().catch(() => {});
    for (const c of conns.values()) await c.close().catch(() => {});
  }
}

function basesOf(register: Register, item: PersonItem) {
  return [...new Set(item.explanation.purposes.map((p) => p.purpose))].flatMap((id) => {
    const found = purposeOf(register, id);
    return found ? [{ purpose: id, legalBasis: found.purpose.legalBasis }] : [];
  });
}

function recipientsOf(register: Register, item: PersonItem, lang: 'fr' | 'en' = 'en'): string[] {
  const ids = new Set<string>();
  for (const p of item.explanation.purposes)
    for (const r of purposeOf(register, p.purpose)?.activity.recipients ?? []) ids.add(r);
  return [...ids].map((id) => localise(register.recipients.find((r) => r.id === id)?.name, lang) || id);
}

function ruleOf(register: Register, id: string | null): RetentionRule | undefined {
  return id === null ? undefined : register.retention.find((r) => r.id === id);
}

// ---------------------------------------------------------------------------------------------
// Carrying a request out

export interface RunOptions {
  readonly at?: string;
  readonly out?: string;
  readonly dryRun?: boolean;
  readonly onBehalfOf?: string;
  /** An objection to a purpose other than direct marketing: the DPO's compelling legitimate grounds. */
  readonly grounds?: string;
  readonly today?: string;
  readonly actor?: string;
}

/** A record held for a controller, reported to it with the request, executed on its instruction. */
export interface Forwarded {
  readonly controller: string;
  readonly controllerId: string | null;
  readonly store: string;
  readonly table: string;
  readonly id: string;
}

export interface RunResult {
  readonly request: number;
  readonly type: RequestType;
  readonly at: string;
  readonly dryRun: boolean;
  /** "we hold no data about you" when nothing was found. */
  readonly message?: string;
  readonly found: number;
  readonly files?: readonly string[];
  readonly erased?: readonly {
    table: string;
    id: string;
    action: 'delete' | 'anonymise';
    archived?: boolean;
  }[];
  readonly kept?: readonly { table: string; id: string; basis: string; until: string | null }[];
  readonly forwarded?: readonly Forwarded[];
  readonly rectified?: readonly { table: string; id: string; fields: readonly string[] }[];
  readonly unchanged?: readonly { table: string; id: string; basis: string }[];
  readonly restricted?: readonly { table: string; id: string }[];
  readonly hold?: number;
  readonly suppressed?: boolean;
}

const NO_DATA = 'we hold no data about you';

export async function runRequest(
  configFile: string | undefined,
  id: number,
  options: RunOptions = {},
): Promise<RunResult> {
  const today = options.today ?? todayUtc();
  const at = options.at ? requireDateInput('--at', options.at) : today;
  if (at > today) throw new RegistreError('E_USAGE', `--at ${at} is after today (${today})`);
  const dryRun = options.dryRun === true;
  const actor = options.actor ?? currentActor();
  const project = await openProject(configFile);
  const key = requireKey(project);
  const state = await openState(project, dryRun ? 'read' : 'write');
  // One run of a request at a time, whichever process asks: the second is told, not run twice.
  const lock = dryRun
    ? null
    : await state.lock(`request:${id}`, 10 * 60_000, `run of request ${id}`).catch(async (error) => {
        await state.close();
        throw error;
      });
  try {
    const row = await requireRequest(state, id);
    if (options.onBehalfOf !== undefined)
      return await runOnInstruction(project, state, row, options.onBehalfOf, at, dryRun, actor);
    if (row.status === 'done' || row.status === 'refused')
      throw new RegistreError('E_REQUEST_CLOSED', `request ${id} is already ${row.status}`);
    if (row.status !== 'verified')
      throw new RegistreError(
        'E_NOT_VERIFIED',
        `request ${id} is ${row.status}: the person's identity is not verified; nothing is done before it is (request verify ${id} --code … or --manual --reason …)`,
      );
    const email = row.email as string;
    const type = row.type as RequestType;
    return await withPersonStores(project, !dryRun && type === 'erasure', async (conns, archive) => {
      const items = await personItems(project, state, email, at, key, conns, archive);
      const base = { request: id, type, at, dryRun, found: items.length };
      let result: RunResult;
      if (type === 'access' || type === 'portability') {
        if (!options.out)
          throw new RegistreError('E_USAGE', `${type}: --out DIR, where the package is written`);
        const out = resolve(options.out);
        const files = dryRun
          ? []
          : type === 'access'
            ? writeAccess(project.register, items, out, row, today)
            : writePortability(project.register, items, out, row, today);
        result = { ...base, files, ...(items.length ? {} : { message: NO_DATA }) };
      } else if (type === 'erasure')
        result = {
          ...base,
          ...(await erase(project, state, row, items, conns, archive, at, dryRun)),
        };
      else if (type === 'rectification')
        result = { ...base, ...(await rectify(project, row, items, conns, dryRun)) };
      else if (type === 'restriction')
        result = { ...base, ...(await restrict(state, row, items, dryRun, actor)) };
      else result = { ...base, ...(await object(project, state, row, items, conns, at, dryRun, options)) };
      if (items.length === 0) result = { ...result, message: NO_DATA };
      if (!dryRun) {
        const counts = {
          found: items.length,
          ...(result.erased ? { erased: result.erased.length } : {}),
          ...(result.kept ? { kept: result.kept.length } : {}),
          ...(result.forwarded ? { forwarded: result.forwarded.length } : {}),
          ...(result.rectified ? { rectified: result.rectified.length } : {}),
          ...(result.restricted ? { restricted: result.restricted.length } : {}),
        };
        const keys = state.digest(
          items.map((i) => `${i.store.id}.${i.table.name}:${i.id}${i.archived ? '@archive' : ''}`).join(','),
        );
        const outcome = { ...result, files: result.files?.map((f) => f.split(/[\\/]/).pop() ?? f) };
        const erased = type === 'erasure' && !result.erased?.length ? false : type === 'erasure';
        await state.updateRequest(id, {
          status: 'done',
          outcome: outcome as unknown as Record<string, unknown>,
          // The address served its purpose once the person is erased: only the keyed hash stays.
          ...(erased || type === 'erasure' ? { email: null } : {}),
        });
        await state.audit('request.run', {
          request: id,
          type,
          person: row.person,
          at,
          counts,
          keys,
          ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
          ...(options.grounds ? { grounds: await state.keepReason(options.grounds) } : {}),
          actor,
        });
      }
      return result;
    });
  } finally {
    await lock?.release().catch(() => {});
    await state.close();
  }
}

// -- access and portability

function accessPackage(
  register: Register,
  items: readonly PersonItem[],
  row: RequestRow,
  generated: string,
): AccessPackage {
  const own = items.filter((i) => !i.explanation.processor);
  return {
    subject: { request: row.id, person: row.person },
    generated,
    records: own.map((i) => ({
      store: i.store.id,
      table: i.table.name,
      id: i.id,
      record: i.table.record,
      archived: i.archived,
      data: personalData(i.table, i.row),
      purposes: basesOf(register, i),
      recipients: recipientsOf(register, i),
      deadline: i.explanation.deadline,
      status: i.restricted ? 'restricted' : i.explanation.status,
    })),
    consents: own.flatMap((i) =>
      basesOf(register, i)
        .filter((p) => p.legalBasis === 'consent')
        .map((p) => ({
          purpose: p.purpose,
          table: i.table.name,
          id: i.id,
          proof: otherData(i.table, i.row),
        })),
    ),
    processor: items
      .filter((i) => i.explanation.processor)
      .map((i) => ({
        controller: i.controller?.name ?? null,
        controllerId: i.controller?.id ?? null,
        table: i.table.name,
        id: i.id,
        data: personalData(i.table, i.row),
      })),
  };
}

function writeAccess(
  register: Register,
  items: readonly PersonItem[],
  out: string,
  row: RequestRow,
  today: string,
): string[] {
  const pkg = accessPackage(register, items, row, today);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const json = join(out, 'access.json');
  const html = join(out, 'access.html');
  writeFileSync(json, `${JSON.stringify(pkg, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(html, accessHtml(register, pkg), { mode: 0o600 });
  return [json, html];
}

/** Art. 20: what the person provided, on consent or contract; not invoices, nothing derived. */
function writePortability(
  register: Register,
  items: readonly PersonItem[],
  out: string,
  row: RequestRow,
  today: string,
): string[] {
  const provided = items.filter(
    (i) =>
      !i.archived &&
      !i.explanation.processor &&
      basesOf(register, i).some((p) => p.legalBasis === 'consent' || p.legalBasis === 'contract') &&
      !basesOf(register, i).some((p) => p.legalBasis === 'legal-obligation'),
  );
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const i of provided) {
    const rows = byTable.get(i.table.name) ?? [];
    rows.push({ id: i.id, ...personalData(i.table, i.row), ...otherData(i.table, i.row) });
    byTable.set(i.table.name, rows);
  }
  const json = join(out, 'portability.json');
  writeFileSync(
    json,
    `${JSON.stringify({ request: row.id, generated: today, data: Object.fromEntries(byTable) }, null, 2)}\n`,
    { mode: 0o600 },
  );
  const files = [json];
  for (const [table, rows] of byTable) {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const path = join(out, `${table}.csv`);
    writeFileSync(
      path,
      `${[columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`,
      { mode: 0o600 },
    );
    files.push(path);
  }
  return files;
}

// -- erasure

function legalObligation(register: Register, item: PersonItem): boolean {
  return basesOf(register, item).some((p) => p.legalBasis === 'legal-obligation');
}

function decide(register: Register, item: PersonItem): ErasureDecision {
  const e = item.explanation;
  return erasureDecision({
    processor: e.processor,
    restricted: item.restricted,
    held: e.holds.length > 0,
    legalObligation: legalObligation(register, item),
    due: e.status === 'due',
    deadline: e.deadline,
    action: item.archived ? 'delete' : e.action,
  });
}

async function erase(
  project: Project,
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  archive: Connection | undefined,
  at: string,
  dryRun: boolean,
): Promise<Pick<RunResult, 'erased' | 'kept' | 'forwarded' | 'suppressed'>> {
  const erased: {
    table: string;
    id: string;
    action: 'delete' | 'anonymise';
    archived?: boolean;
    store: string;
    rule?: string;
  }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  const forwarded: Forwarded[] = [];
  const changes = new Map<string, StoreChange[]>();
  const keptKeys: { store: string; table: string; key: string; action: string }[] = [];
  const archivedKeys = new Map<string, { store: StoreMap; table: TableMap; keys: string[] }>();
  for (const item of items) {
    const d = decide(project.register, item);
    if (d.kind === 'forward') {
      forwarded.push({
        controller: item.controller?.name ?? 'unknown controller',
        controllerId: item.controller?.id ?? null,
        store: item.store.id,
        table: item.table.name,
        id: item.id,
      });
      continue;
    }
    if (d.kind === 'keep') {
      kept.push({ table: item.table.name, id: item.id, basis: d.basis, until: d.until });
      if (!item.archived)
        keptKeys.push({ store: item.store.id, table: item.table.name, key: item.id, action: 'keep' });
      continue;
    }
    erased.push({
      store: item.store.id,
      table: item.table.name,
      id: item.id,
      action: d.kind,
      ...(item.archived ? { archived: true } : {}),
      ...(d.kind === 'anonymise' && item.explanation.rule ? { rule: item.explanation.rule } : {}),
    });
    if (item.archived) {
      const k = `${item.store.id}.${item.table.name}`;
      const entry = archivedKeys.get(k) ?? { store: item.store, table: item.table, keys: [] };
      entry.keys.push(item.id);
      archivedKeys.set(k, entry);
      continue;
    }
    const list = changes.get(item.store.id) ?? [];
    const rule = ruleOf(project.register, item.explanation.rule);
    let change = list.find((c) => c.table === item.table && c.action === d.kind && c.rule === rule);
    if (!change) {
      change = { table: item.table, action: d.kind, keys: [], ...(rule ? { rule } : {}) };
      list.push(change);
    }
    (change.keys as string[]).push(item.id);
    changes.set(item.store.id, list);
  }
  if (!dryRun) {
    // What is erased is remembered first: a run killed midway is replayed whole after a restore.
    if (erased.length || keptKeys.length)
      await state.addErasure({
        requestId: row.id,
        person: row.person,
        at,
        records: erased
          .map((e): ErasureRow['records'][number] => ({
            store: e.store,
            table: e.table,
            key: e.id,
            action: e.action,
            ...(e.archived ? { archived: true } : {}),
            ...(e.rule ? { rule: e.rule } : {}),
          }))
          .concat(keptKeys),
      });
    for (const store of project.datamap.stores) {
      const conn = conns.get(store.id) as Connection;
      try {
        await applyChanges(conn, store, changes.get(store.id) ?? [], {
          state,
          folders: foldersOf(project),
          ...(store.suppressionList ? { suppress: { hashes: [row.person], at, reason: 'erasure' } } : {}),
        });
      } catch (error) {
        if (error instanceof RegistreError) throw error;
        throw new RegistreError(
          'E_STORE_FAILED',
          `store "${store.id}" (${conn.label}) failed during the erasure: ${safeMessage(error)}; its changes were rolled back (one transaction), the request stays verified: run it again`,
          { cause: error },
        );
      }
    }
    if (archive)
      for (const { store, table, keys } of archivedKeys.values())
        await deleteArchived(archive, store, table, keys, archiveFilesDir(project));
  }
  return {
    erased: erased.map(({ store: _s, rule: _r, ...e }) => e),
    kept,
    forwarded,
    suppressed: project.datamap.stores.some((s) => s.suppressionList),
  };
}

/**
 * Executes, on a controller's instruction, the erasure of the records a done erasure forwarded to
 * it: only those, only what is still there, never a held one; logged with the controller.
 */
async function runOnInstruction(
  project: Project,
  state: StateStore,
  row: RequestRow,
  controllerId: string,
  at: string,
  dryRun: boolean,
  actor: string,
): Promise<RunResult> {
  if (row.type !== 'erasure')
    throw new RegistreError(
      'E_USAGE',
      "--on-behalf-of: only an erasure is executed on a controller's instruction",
    );
  const outcome = (row.outcome ?? {}) as { forwarded?: Forwarded[]; instructed?: Record<string, unknown>[] };
  if (row.status !== 'done')
    throw new RegistreError(
      'E_REQUEST_STATE',
      `request ${row.id} is ${row.status}: run the erasure first; what it holds for a controller is forwarded, then executed on that controller's instruction`,
    );
  const mine = (outcome.forwarded ?? []).filter((f) => f.controllerId === controllerId);
  if (mine.length === 0) {
    const named = [...new Set((outcome.forwarded ?? []).map((f) => `${f.controller} (${f.controllerId})`))];
    throw new RegistreError(
      'E_NOT_FOUND',
      `request ${row.id} forwarded nothing to controller ${controllerId}${named.length ? `; it forwarded to ${named.join(', ')}` : ''}`,
    );
  }
  const erased: { table: string; id: string; action: 'delete' }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  await withPersonStores(project, false, async (conns) => {
    const planned: { conn: Connection; store: StoreMap; changes: StoreChange[] }[] = [];
    for (const store of project.datamap.stores) {
      const conn = conns.get(store.id) as Connection;
      const ctx = await retentionContext(conn, project.register, project.datamap);
      const changes: StoreChange[] = [];
      for (const table of store.tables) {
        const keys = mine.filter((f) => f.store === store.id && f.table === table.name).map((f) => f.id);
        if (keys.length === 0 || !table.record) continue;
        const held = await state.heldKeys(store.id, [table.name], at);
        const statuses = await statusesOf(conn, ctx, table, at, keys, held.byTable);
        const go = keys.filter(
          (k) => statuses.has(k) && statuses.get(k) !== 'held' && statuses.get(k) !== 'restricted',
        );
        for (const k of keys)
          if (statuses.get(k) === 'held' || statuses.get(k) === 'restricted')
            kept.push({
              table: table.name,
              id: k,
              basis: statuses.get(k) === 'held' ? '17(3)(e)' : '18',
              until: null,
            });
        for (const k of go) erased.push({ table: table.name, id: k, action: 'delete' });
        if (go.length) changes.push({ table, action: 'delete', keys: go });
      }
      if (changes.length) planned.push({ conn, store, changes });
    }
    if (dryRun) return;
    // Remembered first, as an erasure is: a run killed midway is replayed whole after a restore.
    if (erased.length)
      await state.addErasure({
        requestId: row.id,
        person: row.person,
        at,
        records: erased.map((e) => ({
          store: mine.find((f) => f.table === e.table && f.id === e.id)?.store as string,
          table: e.table,
          key: e.id,
          action: 'delete',
        })),
      });
    for (const p of planned)
      await applyChanges(p.conn, p.store, p.changes, { state, folders: foldersOf(project) });
  });
  if (!dryRun) {
    await state.updateRequest(row.id, {
      outcome: {
        ...outcome,
        instructed: [
          ...(outcome.instructed ?? []),
          { controller: controllerId, at, erased: erased.length, kept: kept.length },
        ],
      },
    });
    await state.audit('request.instructed', {
      request: row.id,
      person: row.person,
      controller: controllerId,
      at,
      counts: { erased: erased.length, kept: kept.length },
      keys: state.digest(erased.map((e) => `${e.table}:${e.id}`).join(',')),
      actor,
    });
  }
  return { request: row.id, type: 'erasure', at, dryRun, found: mine.length, erased, kept, forwarded: [] };
}

// -- rectification

async function rectify(
  project: Project,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  dryRun: boolean,
): Promise<Pick<RunResult, 'rectified' | 'unchanged'>> {
  const set = (row.details as { set?: Record<string, string> }).set ?? {};
  const rectified: { table: string; id: string; fields: string[] }[] = [];
  const unchanged: { table: string; id: string; basis: string }[] = [];
  const updates = new Map<string, { table: TableMap; keys: string[]; set: Record<string, unknown> }[]>();
  // The categories the corrected values belong to: a record kept under a legal obligation that
  // holds data of one of them (an invoice's billing name) is reported as unchanged.
  const categories = new Set(
    project.datamap.stores.flatMap((s) =>
      s.tables.flatMap((table) =>
        Object.keys(set).flatMap((field) => {
          const column = columnOfField(table, field);
          const spec = column ? table.columns[column] : undefined;
          const category = spec ? columnOf(spec).category : undefined;
          return category ? [category] : [];
        }),
      ),
    ),
  );
  for (const item of items) {
    if (item.archived || item.explanation.processor) continue;
    const columns = Object.fromEntries(
      Object.entries(set).flatMap(([field, value]) => {
        const column = columnOfField(item.table, field);
        return column && item.table.columns[column] ? [[column, value]] : [];
      }),
    );
    if (legalObligation(project.register, item)) {
      const holds = Object.values(item.table.columns).some((spec) => {
        const category = columnOf(spec).category;
        return category !== undefined && categories.has(category);
      });
      if (holds || Object.keys(columns).length)
        unchanged.push({
          table: item.table.name,
          id: item.id,
          basis: 'legal obligation: an accounting document is corrected by a new one, not rewritten',
        });
      continue;
    }
    if (Object.keys(columns).length === 0) continue;
    rectified.push({ table: item.table.name, id: item.id, fields: Object.keys(columns) });
    const list = updates.get(item.store.id) ?? [];
    const signature = JSON.stringify(columns);
    let u = list.find((x) => x.table === item.table && JSON.stringify(x.set) === signature);
    if (!u) {
      u = { table: item.table, keys: [], set: columns };
      list.push(u);
    }
    u.keys.push(item.id);
    updates.set(item.store.id, list);
  }
  if (!dryRun) for (const [store, list] of updates) await rectifyRows(conns.get(store) as Connection, list);
  return { rectified, unchanged };
}

// -- restriction

async function restrict(
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  dryRun: boolean,
  actor: string,
): Promise<Pick<RunResult, 'restricted' | 'hold'>> {
  const own = items.filter((i) => !i.explanation.processor);
  const restricted = own.map((i) => ({ table: i.table.name, id: i.id }));
  if (dryRun || own.length === 0) return { restricted };
  const records = own.map((i) => ({ store: i.store.id, table: i.table.name, key: i.id }));
  const ids = await recordHold(state, records, {
    reason: `restriction of processing (art. 18), request ${row.id}`,
    actor,
    person: row.person,
    restriction: { request: row.id },
  });
  return { restricted, hold: ids[0] as number };
}

/** Lifts a restriction: its records are open to their rules again. */
export async function liftRestriction(
  configFile: string | undefined,
  id: number,
  actor = currentActor(),
): Promise<{ request: number; hold: number; records: number }> {
  return withState(configFile, 'write', async (state) => {
    const row = await requireRequest(state, id);
    const hold = (row.outcome as { hold?: number } | null)?.hold;
    if (row.type !== 'restriction' || row.status !== 'done' || hold === undefined)
      throw new RegistreError('E_REQUEST_STATE', `request ${id} is not a restriction in force`);
    const released = await releaseHoldCase(state, hold, actor);
    await state.audit('request.lift', { request: id, person: row.person, hold, actor });
    return { request: id, hold, records: released.records.length };
  });
}

// -- objection

async function object(
  project: Project,
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  at: string,
  dryRun: boolean,
  options: RunOptions,
): Promise<Pick<RunResult, 'erased' | 'kept' | 'suppressed'>> {
  const purposeId = (row.details as { purpose?: string }).purpose as string;
  const found = purposeOf(project.register, purposeId);
  const marketing = found?.purpose.tags?.includes('direct-marketing') === true;
  // Art. 21(1): the controller may go on with compelling legitimate grounds, recorded; never for marketing (21(3)).
  if (!marketing && options.grounds !== undefined) return { erased: [], kept: [] };
  const erased: { table: string; id: string; action: 'delete' | 'anonymise' }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  const changes = new Map<string, StoreChange[]>();
  for (const item of items) {
    if (item.archived || item.explanation.processor) continue;
    const bases = basesOf(project.register, item);
    if (!bases.some((b) => b.purpose === purposeId)) continue;
    const others = bases.filter((b) => b.purpose !== purposeId);
    // What serves only the purpose objected to (and purposes that exist only for it) goes.
    const onlyThat = marketing
      ? others.every((b) => b.legalBasis === 'consent' || b.legalBasis === 'legitimate-interest')
      : others.length === 0;
    if (item.restricted || item.explanation.holds.length) {
      kept.push({
        table: item.table.name,
        id: item.id,
        basis: item.restricted ? '18' : '17(3)(e)',
        until: null,
      });
      continue;
    }
    if (!onlyThat) {
      kept.push({
        table: item.table.name,
        id: item.id,
        basis: `other purposes: ${others.map((o) => o.purpose).join(', ')}`,
        until: item.explanation.deadline,
      });
      continue;
    }
    erased.push({ table: item.table.name, id: item.id, action: 'delete' });
    const list = changes.get(item.store.id) ?? [];
    let change = list.find((c) => c.table === item.table);
    if (!change) {
      change = { table: item.table, action: 'delete', keys: [] };
      list.push(change);
    }
    (change.keys as string[]).push(item.id);
    changes.set(item.store.id, list);
  }
  if (!dryRun)
    for (const store of project.datamap.stores)
      await applyChanges(conns.get(store.id) as Connection, store, changes.get(store.id) ?? [], {
        state,
        folders: foldersOf(project),
        ...(marketing && store.suppressionList
          ? { suppress: { hashes: [row.person], at, reason: 'objection' } }
          : {}),
      });
  return { erased, kept, suppressed: marketing };
}

// ---------------------------------------------------------------------------------------------
// Erasure replay

export interface ReplayResult {
  readonly erasures: number;
  /** Records found again (restored) and erased again. */
  readonly redone: readonly { request: number; table: string; id: string; action: string }[];
  /** Records found again but left: held now, or the key now belongs to someone else. */
  readonly skipped: readonly { request: number; table: string; id: string; why: string }[];
  readonly suppressed: number;
}

/**
 * After a database backup is restored, re-applies every past erasure: the records each one
 * removed (kept by key in the state store) that are back, checked against the person's keyed
 * hash where the table holds the address, set-based per table; held records stay held.
 */
export async function replayErasures(
  configFile: string | undefined,
  options: { today?: string; actor?: string; dryRun?: boolean } = {},
): Promise<ReplayResult> {
  const at = options.today ?? todayUtc();
  const project = await openProject(configFile);
  const key = requireKey(project);
  const state = await openState(project, options.dryRun ? 'read' : 'write');
  try {
    const erasures = await state.erasures();
    const redone: { request: number; table: string; id: string; action: string }[] = [];
    const skipped: { request: number; table: string; id: string; why: string }[] = [];
    let suppressed = 0;
    await withPersonStores(project, false, async (conns) => {
      for (const store of project.datamap.stores) {
        const conn = conns.get(store.id) as Connection;
        const ctx = await retentionContext(conn, project.register, project.datamap);
        // Every erased key of every erasure, by table: one look-up per table, whatever their number.
        const wanted = new Map<
          string,
          {
            table: TableMap;
            records: { erasure: (typeof erasures)[number]; key: string; action: string; rule?: string }[];
          }
        >();
        for (const erasure of erasures)
          for (const r of erasure.records) {
            if (r.store !== store.id || r.archived || r.action === 'keep') continue;
            const table = store.tables.find((t) => t.name === r.table);
            if (!table) continue;
            const entry = wanted.get(table.name) ?? { table, records: [] };
            entry.records.push({
              erasure,
              key: r.key,
              action: r.action,
              ...(r.rule ? { rule: r.rule } : {}),
            });
            wanted.set(table.name, entry);
          }
        const changes: StoreChange[] = [];
        for (const { table, records } of wanted.values()) {
          const keys = [...new Set(records.map((r) => r.key))];
          const back = await restoredRows(conn, table, keys, key);
          if (back.size === 0) continue;
          const heldNow = await state.heldKeys(store.id, [table.name], at);
          const verdicts = await statusesOf(conn, ctx, table, at, [...back.keys()], heldNow.byTable);
          const byAction = new Map<string, string[]>();
          for (const r of records) {
            if (!back.has(r.key)) continue;
            const hash = back.get(r.key);
            if (hash !== null && hash !== undefined && hash !== r.erasure.person) {
              skipped.push({
                request: r.erasure.requestId,
                table: table.name,
                id: r.key,
                why: 'the key now holds another person',
              });
              continue;
            }
            const status = verdicts.get(r.key);
            if (status === 'held' || status === 'restricted') {
              skipped.push({ request: r.erasure.requestId, table: table.name, id: r.key, why: status });
              continue;
            }
            // Anonymised already (the restored copy was made after, or a sweep did it): nothing to redo.
            if (r.action === 'anonymise' && status === 'anonymised') continue;
            redone.push({ request: r.erasure.requestId, table: table.name, id: r.key, action: r.action });
            const signature = `${r.action}|${r.rule ?? ''}`;
            const list = byAction.get(signature) ?? [];
            list.push(r.key);
            byAction.set(signature, list);
          }
          for (const [signature, list] of byAction) {
            const [action, ruleId] = signature.split('|') as ['delete' | 'anonymise', string];
            const rule = ruleOf(project.register, ruleId || null);
            changes.push({ table, action, keys: [...new Set(list)], ...(rule ? { rule } : {}) });
          }
        }
        if (options.dryRun) continue;
        if (changes.length) await applyChanges(conn, store, changes, { state, folders: foldersOf(project) });
        // The suppression list of the restored copy: the keyed hashes, put back as they were.
        if (store.suppressionList)
          await conn.db.transaction().execute(async (trx) => {
            for (const erasure of erasures) {
              const added = await addToSuppressionList(trx, conn.dialect, store, [erasure.person], {
                at: erasure.at,
                reason: 'erasure',
              });
              suppressed += added.length;
            }
          });
      }
    });
    if (!options.dryRun)
      await state.audit('erasure.replay', {
        erasures: erasures.length,
        redone: redone.length,
        skipped: skipped.length,
        keys: state.digest(redone.map((r) => `${r.table}:${r.id}`).join(',')),
        actor: options.actor ?? currentActor(),
      });
    return { erasures: erasures.length, redone, skipped, suppressed };
  } finally {
    await state.close();
  }
}
