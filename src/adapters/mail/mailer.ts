/**
 * Messages to people (identity codes, letters about their requests): nodemailer over SMTP when `mail.smtp` is configured, else a
 * file outbox, one `.eml` file per message (the demo and the tests read it). nodemailer composes
 * the message in both cases, so the outbox holds exactly what SMTP would have sent.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { ConfigFile } from '../../core/config.js';
import { RegistreError } from '../../core/errors.js';
import { safeMessage } from '../../core/safe-message.js';

export interface Message {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** In the outbox file's name (letters and digits, `-`): what it is, e.g. `request-12-code`. */
  readonly tag?: string;
  /** Files attached (an access package), by path. */
  readonly attachments?: readonly { readonly filename: string; readonly path: string }[];
}

export interface Sent {
  /** `smtp` or the path of the .eml file written. */
  readonly via: string;
  readonly messageId: string;
}

function smtpUrl(value: string): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice(4);
  const url = process.env[name];
  if (!url)
    throw new RegistreError('E_ENV_UNSET', `mail.smtp reads ${name} from the environment, and it is not set`);
  return url;
}

export async function sendMail(
  mail: ConfigFile['mail'],
  baseDir: string,
  from: string,
  message: Message,
): Promise<Sent> {
  const envelope = {
    from: mail?.from ?? from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    // One encoding whatever the language: the outbox reads the same for a French or English text.
    textEncoding: 'quoted-printable' as const,
    ...(message.attachments?.length ? { attachments: message.attachments.map((a) => ({ ...a })) } : {}),
  };
  if (mail?.smtp) {
    const transport = nodemailer.createTransport(smtpUrl(mail.smtp));
    try {
      const info = await transport.sendMail(envelope);
      return { via: 'smtp', messageId: String(info.messageId) };
    } catch (error) {
      // The server's reply quotes the recipient (`550 5.1.1 <person@…>: …`): its code and a fixed
      // text only, and not the error itself as a cause, which a caller could print.
      throw new RegistreError('E_MAIL', `the message could not be sent: ${safeMessage(error)}`);
    } finally {
      transport.close();
    }
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = await transport.sendMail(envelope);
  const dir = resolve(baseDir, mail?.outbox ?? '.registre/outbox');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = String(info.messageId).replace(/[^A-Za-z0-9.-]/g, '');
  const tag = message.tag ? `${message.tag.replace(/[^A-Za-z0-9-]/g, '')}-` : '';
  const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${tag}${id}.eml`);
  writeFileSync(path, info.message as Buffer, { mode: 0o600 });
  return { via: path, messageId: String(info.messageId) };
}

/** The outbox's files whose name carries `tag` (oldest first), as written by `sendMail`. */
export function outboxFiles(mail: ConfigFile['mail'], baseDir: string, tag: RegExp): string[] {
  if (mail?.smtp) return [];
  const dir = resolve(baseDir, mail?.outbox ?? '.registre/outbox');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.eml') && tag.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Removes a message from the outbox (a code once used, replaced or expired). */
export function removeFromOutbox(path: string): void {
  rmSync(path, { force: true });
}
