/** A request's lifecycle: open, send a code, verify, extend, refuse, list and show. */
import { randomInt } from 'node:crypto';
import { sendMail } from '../../adapters/mail/mailer.js';
import { currentActor, type RequestRow, type StateStore } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { personHash } from '../../core/identity.js';
import { checkRectification } from '../../core/requests/rectification.js';
import {
  CODE_ATTEMPTS,
  CODE_TTL_MINUTES,
  dueDate,
  extensionDue,
  isOpen,
  parseSettings,
  REQUEST_TYPES,
  type RequestStatus,
  type RequestType,
  requireEmail,
} from '../../core/requests/requests.js';
import { requireDateInput } from '../../core/retention/calendar.js';
import type { Project } from '../project.js';
import { todayUtc, withState } from '../stores.js';

import { purposeOf, type RequestView, requireKey, requireRequest, viewOf } from './shared.js';

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
    if (type === 'rectification')
      details.set = checkRectification(parseSettings(options.set ?? []), project.register, project.datamap);
    const person = personHash(key, email);
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
export async function sendCode(
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
