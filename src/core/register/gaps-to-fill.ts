/**
 * What an imported draft leaves for the DPO to fill, named with where to fill it: the address
 * where people exercise their rights, the DPO, and each activity's recipients. Published tables
 * rarely say them, and the documents would print placeholders in their place.
 */
import type { Reporter } from '../issues.js';
import { designatedDpo, reachable, rightsEmail } from './organisation-contacts.js';
import type { Register } from './register-load.js';

export function checkGapsToFill(register: Register, warn: Reporter): void {
  const org = register.organisation;
  const dpo = designatedDpo(org);
  // The channels the notice prints under "How to exercise your rights".
  if (!rightsEmail(org) && !org.rights?.address && !org.rights?.url)
    warn(
      'W_NO_CONTACT',
      org,
      ['rights'],
      'the organisation gives no address where people exercise their rights (art. 12(2), 13(2)(b)): fill organisation.rights.email (or organisation.rights.address, or organisation.contact.email); until then the notice prints "[adresse à compléter]"',
    );
  if (org.dpo?.designated !== false && !reachable(dpo) && !dpo?.name)
    warn(
      'W_NO_DPO',
      org,
      ['dpo'],
      'the organisation names no data protection officer (art. 37, 13(1)(b)): fill organisation.dpo (name and email), or write "organisation.dpo.designated: false" when none is designated',
    );
  for (const activity of register.activities)
    if (activity.role === 'controller' && !activity.recipients?.length)
      warn(
        'W_NO_RECIPIENTS',
        activity,
        ['recipients'],
        `activity "${activity.id}" lists no recipients, so neither the notice nor the art. 30 record can say who receives its data (art. 13(1)(e), 30(1)(d)): add "recipients:" to the activity, with ids declared in the register's "recipients:" list (teams, processors, third parties)`,
      );
}
