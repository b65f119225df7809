/**
 * Whom people reach: the organisation's DPO (when one is designated) and the address where they
 * exercise their rights. Documents and letters read them here, so that a DPO stated as not
 * designated (`dpo: { designated: false }`) is never printed nor written to.
 */
import type { Organisation } from './register-schema.js';

type Dpo = NonNullable<Organisation['dpo']>;

/** The DPO, unless the register states that none is designated. */
export function designatedDpo(org: Organisation | undefined): Dpo | undefined {
  return org?.dpo?.designated === false ? undefined : org?.dpo;
}

/** The e-mail address for people's rights: the rights contact's, else the DPO's, else the organisation's. */
export function rightsEmail(org: Organisation | undefined): string | undefined {
  return org?.rights?.email ?? designatedDpo(org)?.email ?? org?.contact?.email;
}

/** Whether a contact gives any way to reach it. */
export function reachable(contact: Organisation['contact'] | undefined): boolean {
  return Boolean(contact && (contact.email || contact.address || contact.url || contact.phone));
}
