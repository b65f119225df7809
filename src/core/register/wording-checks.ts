/**
 * Warnings on the register's wording, where a text that is valid would still read wrong in the
 * documents generated from it: a purpose written as a noun where the notice's sentence needs a
 * verb, a conditional rule whose documents cannot say whom it applies to.
 */

import type { Reporter } from '../issues.js';
import { localise } from '../text.js';
import type { Register } from './register-load.js';

/** Pronouns that may come before a French infinitive ("Vous adresser", "Les informer"). */
const FR_CLITICS = new Set(['vous', 'nous', 'te', 'se', 'lui', 'leur', 'les', 'le', 'la', 'y', 'en', 'ne']);

/** An infinitive ends so; a noun of action ("Gestion", "Suivi", "Envoi") does not. */
const FR_INFINITIVE = /(?:er|ir|re|oir)$/u;
/** Nouns with an infinitive's ending ("Facture", "Ouverture"), but not "conclure". */
const FR_NOUN = /(?<!cl)ure$/u;

/** Endings of English nouns and gerunds ("Subscription", "Processing", "Management"). */
const EN_NOUN = /(?:tion|sion|ity|ing|(?<!docu|imple|supple|com|aug|comple)ment)$/u;

/** The first word of a French purpose that the sentence "afin de : …" needs to be an infinitive. */
function frenchVerb(text: string): string | undefined {
  const words = text
    .toLowerCase()
    .split(/[\s’']+/u)
    .filter((w) => w && w !== 'l' && w !== 'd');
  const word = words.find((w) => !FR_CLITICS.has(w));
  if (!word) return undefined;
  const bare = word.replace(/[^\p{L}-]/gu, '');
  return FR_INFINITIVE.test(bare) && !FR_NOUN.test(bare) ? undefined : bare;
}

function englishNoun(text: string): string | undefined {
  const word = text
    .trim()
    .split(/\s+/u)[0]
    ?.toLowerCase()
    .replace(/[^\p{L}-]/gu, '');
  return word && EN_NOUN.test(word) ? word : undefined;
}

export function checkWording(register: Register, warn: Reporter): void {
  for (const activity of register.activities)
    for (const purpose of activity.purposes) {
      const fr = localise(purpose.name, 'fr');
      const en = localise(purpose.name, 'en');
      const frWord = fr ? frenchVerb(fr) : undefined;
      const enWord = en ? englishNoun(en) : undefined;
      if (frWord || enWord)
        warn(
          'W_PURPOSE_NOT_A_VERB',
          purpose,
          ['name'],
          `purpose "${purpose.id}" begins with ${[frWord && `"${frWord}" (fr)`, enWord && `"${enWord}" (en)`].filter(Boolean).join(' and ')}, not a verb: the notice prints it after "Nous utilisons ces données afin de :" / "We use this data to:"; write it as an action ("Gérer les candidatures", "Manage applications")`,
        );
    }
  for (const rule of register.retention)
    if (rule.where && !rule.scope && !rule.text)
      warn(
        'W_RULE_SCOPE_UNSTATED',
        rule,
        ['where'],
        `rule "${rule.id}" applies only where its condition holds, and the documents cannot say to whom: give it a scope in words ("applications not selected", "customers who paid by card")`,
      );
}
