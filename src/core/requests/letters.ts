/**
 * What the person receives about their request (art. 12): the identity code, and a letter when it
 * is refused (12(4)), extended (12(3)) or carried out; each in the person's language, signed with
 * the register's organisation. Pure: the app sends them by the transport of the codes.
 */
import { formatDate } from '../documents/typography.js';
import { designatedDpo } from '../register/organisation-contacts.js';
import type { LocalText, Organisation } from '../register/register-schema.js';
import { type Language, localise } from '../text.js';
import type { RequestType } from './requests.js';

export type LetterKind = 'code' | 'refusal' | 'extension' | 'completion';
/** The letters a request may owe the person, besides its codes. */
export const LETTER_KINDS = ['refusal', 'extension', 'completion'] as const;

export interface Letter {
  readonly subject: string;
  readonly text: string;
}

/** What every letter says of the request. */
export interface LetterRequest {
  readonly id: number;
  readonly type: RequestType;
  readonly received: string;
}

export interface LetterContext {
  readonly organisation: Organisation;
  /** The person's language; both (the register's first one first) when it is not known. */
  readonly languages: readonly Language[];
  readonly request: LetterRequest;
  /** The register's name of the record a table holds (`orders` → "Commandes"), when there is one. */
  readonly names?: ReadonlyMap<string, LocalText>;
}

/** What a completion letter reports: the request's outcome, as `request run` returned it. */
export interface CompletionFacts {
  readonly found: number;
  readonly erased?: readonly { readonly table: string; readonly action: 'delete' | 'anonymise' }[];
  readonly kept?: readonly {
    readonly table: string;
    readonly basis: string;
    readonly until: string | null;
    readonly afterHold?: 'delete' | 'anonymise';
  }[];
  readonly forwarded?: readonly { readonly controller: string; readonly table: string }[];
  readonly rectified?: readonly { readonly table: string; readonly fields: readonly string[] }[];
  readonly unchanged?: readonly { readonly table: string; readonly basis: string }[];
  readonly restricted?: readonly { readonly table: string }[];
  readonly suppressed?: boolean;
  /** Access and portability: the package's files. */
  readonly files?: readonly string[];
  /** `mail`: the package is attached; `letter`: it is handed over apart, by the DPO. */
  readonly delivery: 'mail' | 'letter';
}

/** The supervisory authority of art. 77, by default the CNIL (the organisation's is French). */
export const CNIL = {
  name: "Commission nationale de l'informatique et des libertés (CNIL)",
  address: '3 Place de Fontenoy, TSA 80715, 75334 Paris Cedex 07',
  url: 'www.cnil.fr',
} as const;

/** `2026-12-05` (or an instant on that day) as a person reads it: "5 décembre 2026", "5 December 2026". */
export function longDate(date: string, lang: Language): string {
  return formatDate(date.slice(0, 10), lang);
}

const KINDS: Record<Language, Record<RequestType, string>> = {
  fr: {
    access: "demande d'accès à vos données personnelles (RGPD, art. 15)",
    erasure: "demande d'effacement de vos données personnelles (RGPD, art. 17)",
    rectification: 'demande de rectification de vos données personnelles (RGPD, art. 16)',
    restriction: 'demande de limitation du traitement de vos données (RGPD, art. 18)',
    portability: 'demande de portabilité de vos données (RGPD, art. 20)',
    objection: "demande d'opposition au traitement de vos données (RGPD, art. 21)",
  },
  en: {
    access: 'request for access to your personal data (GDPR art. 15)',
    erasure: 'request for the erasure of your personal data (GDPR art. 17)',
    rectification: 'request for the rectification of your personal data (GDPR art. 16)',
    restriction: 'request for the restriction of the processing of your data (GDPR art. 18)',
    portability: 'request for the portability of your data (GDPR art. 20)',
    objection: 'objection to the processing of your data (GDPR art. 21)',
  },
};

const SHORT: Record<Language, Record<RequestType, string>> = {
  fr: {
    access: "Demande d'accès",
    erasure: "Demande d'effacement",
    rectification: 'Demande de rectification',
    restriction: 'Demande de limitation',
    portability: 'Demande de portabilité',
    objection: "Demande d'opposition",
  },
  en: {
    access: 'Access request',
    erasure: 'Erasure request',
    rectification: 'Rectification request',
    restriction: 'Restriction request',
    portability: 'Portability request',
    objection: 'Objection',
  },
};

/** Where the person writes about their rights: the rights contact, else the DPO, else the organisation. */
function contactOf(org: Organisation, lang: Language): string {
  const c = org.rights ?? designatedDpo(org) ?? org.contact;
  const parts = [c?.email, c?.phone, localise(c?.address, lang), c?.url].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
  return parts.length ? parts.join(', ') : org.name;
}

function authority(org: Organisation, lang: Language): string {
  const named = org.supervisoryAuthority;
  if (named === undefined || /^cnil$/i.test(named.trim()))
    return lang === 'fr'
      ? `la ${CNIL.name}, ${CNIL.address}, ${CNIL.url}`
      : `the ${CNIL.name}, the French supervisory authority, ${CNIL.address}, France, ${CNIL.url}`;
  return lang === 'fr' ? `l'autorité de contrôle (${named})` : `the supervisory authority (${named})`;
}

function intro(ctx: LetterContext, lang: Language): string {
  const { request } = ctx;
  return lang === 'fr'
    ? `Votre ${KINDS.fr[request.type]}, reçue le ${longDate(request.received, 'fr')} (n° ${request.id}).`
    : `Your ${KINDS.en[request.type]}, received on ${longDate(request.received, 'en')} (no. ${request.id}).`;
}

function signature(ctx: LetterContext, lang: Language): string[] {
  const org = ctx.organisation;
  const dpo = localise(designatedDpo(org)?.name, lang);
  return [
    '',
    lang === 'fr'
      ? `Pour toute question sur cette demande : ${contactOf(org, lang)}`
      : `For any question about this request: ${contactOf(org, lang)}`,
    '',
    dpo ? `${dpo}, ${org.name}` : org.name,
  ];
}

/** One letter in each language asked, the person's first; the subjects joined. */
function compose(ctx: LetterContext, make: (lang: Language) => { subject: string; body: string[] }): Letter {
  const langs = ctx.languages.length ? ctx.languages : (['fr'] as const);
  const parts = langs.map((lang) => make(lang));
  return {
    subject: parts.map((p) => p.subject).join(' / '),
    text: `${parts.map((p, i) => [...p.body, ...signature(ctx, langs[i] as Language)].join('\n')).join('\n\n----\n\n')}\n`,
  };
}

/**
 * The identity code: which request it is for, what to do with it, and what to do when the person
 * asked nothing (nothing is done without the code; tell the DPO).
 */
export function codeLetter(ctx: LetterContext, code: string, validMinutes: number): Letter {
  return compose(ctx, (lang) =>
    lang === 'fr'
      ? {
          subject: `${SHORT.fr[ctx.request.type]} n° ${ctx.request.id} : votre code de vérification`,
          body: [
            'Bonjour,',
            '',
            `Nous avons reçu le ${longDate(ctx.request.received, 'fr')} une ${KINDS.fr[ctx.request.type]} (n° ${ctx.request.id}) au nom de cette adresse.`,
            'Avant de la traiter, nous vérifions que vous en êtes bien l’auteur.',
            '',
            `Votre code de vérification est ${code}.`,
            `Il est valable ${validMinutes} minutes.`,
            'Donnez-le à la personne qui traite votre demande (en répondant à ce message ou par le',
            'moyen par lequel vous nous avez écrit), et à personne d’autre.',
            '',
            "Si vous n'avez rien demandé, ignorez ce message : rien ne sera fait sans ce code.",
            `Vous pouvez aussi nous le signaler : ${contactOf(ctx.organisation, 'fr')}`,
          ],
        }
      : {
          subject: `${SHORT.en[ctx.request.type]} no. ${ctx.request.id}: your verification code`,
          body: [
            'Hello,',
            '',
            `On ${longDate(ctx.request.received, 'en')} we received a ${KINDS.en[ctx.request.type]} (no. ${ctx.request.id}) in the name of this address.`,
            'Before acting on it, we check that it comes from you.',
            '',
            `Your verification code is ${code}.`,
            `It is valid for ${validMinutes} minutes.`,
            'Give it to the person handling your request (reply to this message, or by the means',
            'you used to write to us), and to no one else.',
            '',
            'If you did not ask for anything, ignore this message: nothing is done without this code.',
            `You may also tell us: ${contactOf(ctx.organisation, 'en')}`,
          ],
        },
  );
}

/** Art. 12(4): the reason, the right to complain to the supervisory authority, and to a court. */
export function refusalLetter(ctx: LetterContext, reason: string): Letter {
  return compose(ctx, (lang) =>
    lang === 'fr'
      ? {
          subject: `${SHORT.fr[ctx.request.type]} n° ${ctx.request.id} : refus`,
          body: [
            'Bonjour,',
            '',
            intro(ctx, 'fr'),
            'Nous ne pouvons pas y donner suite, pour la raison suivante (RGPD, art. 12(4)) :',
            '',
            `  ${reason}`,
            '',
            `Vous avez le droit d'introduire une réclamation auprès de ${authority(ctx.organisation, 'fr')}`,
            '(RGPD, art. 77), et de former un recours juridictionnel devant le tribunal compétent (art. 79).',
          ],
        }
      : {
          subject: `${SHORT.en[ctx.request.type]} no. ${ctx.request.id}: refused`,
          body: [
            'Hello,',
            '',
            intro(ctx, 'en'),
            'We cannot act on it, for the following reason (GDPR art. 12(4)):',
            '',
            `  ${reason}`,
            '',
            `You have the right to lodge a complaint with ${authority(ctx.organisation, 'en')}`,
            '(GDPR art. 77), and to seek a judicial remedy before the competent court (art. 79).',
          ],
        },
  );
}

/** Art. 12(3): the reason and the new deadline, within the first month. */
export function extensionLetter(ctx: LetterContext, reason: string, months: number, due: string): Letter {
  return compose(ctx, (lang) =>
    lang === 'fr'
      ? {
          subject: `${SHORT.fr[ctx.request.type]} n° ${ctx.request.id} : délai prolongé`,
          body: [
            'Bonjour,',
            '',
            intro(ctx, 'fr'),
            `Nous prolongeons le délai de réponse de ${months} mois, pour la raison suivante :`,
            '',
            `  ${reason}`,
            '',
            `Nous vous répondrons au plus tard le ${longDate(due, 'fr')}.`,
            'Le RGPD (art. 12(3)) permet de prolonger le délai d’un mois de deux mois au plus, compte tenu',
            'de la complexité et du nombre de demandes, en vous en informant dans le premier mois.',
            `Vous pouvez introduire une réclamation auprès de ${authority(ctx.organisation, 'fr')}.`,
          ],
        }
      : {
          subject: `${SHORT.en[ctx.request.type]} no. ${ctx.request.id}: more time needed`,
          body: [
            'Hello,',
            '',
            intro(ctx, 'en'),
            `We extend the time to answer it by ${months} month${months > 1 ? 's' : ''}, for the following reason:`,
            '',
            `  ${reason}`,
            '',
            `We will answer by ${longDate(due, 'en')} at the latest.`,
            'The GDPR (art. 12(3)) allows the one-month period to be extended by up to two further months,',
            'given the complexity and number of requests, telling you so within the first month.',
            `You may lodge a complaint with ${authority(ctx.organisation, 'en')}.`,
          ],
        },
  );
}

const ACTIONS: Record<Language, Record<'delete' | 'anonymise', string>> = {
  fr: { delete: 'effacé(s)', anonymise: 'anonymisé(s) : ce qui vous identifiait est effacé' },
  en: { delete: 'erased', anonymise: 'anonymised: what identified you is erased' },
};

/** Why a record is kept, in the person's words. */
function basisText(basis: string, until: string | null, lang: Language, afterHold?: string): string {
  const date = until ? longDate(until, lang) : null;
  const fr = lang === 'fr';
  if (basis === '17(3)(b)')
    return fr
      ? `conservé(s) pour respecter une obligation légale (RGPD, art. 17(3)(b) ; pièces comptables, Code de commerce L123-22)${date ? `, jusqu'au ${date}, puis effacé(s)` : ''}`
      : `kept to comply with a legal obligation (GDPR art. 17(3)(b); accounting records, French Commercial Code L123-22)${date ? `, until ${date}, then erased` : ''}`;
  if (basis === '17(3)(e)' || basis.startsWith('held'))
    return fr
      ? `conservé(s) : nécessaire(s) à la constatation, l'exercice ou la défense de droits en justice, un litige étant en cours (RGPD, art. 17(3)(e))${afterHold ? ' ; effacé(s) dès qu’il prend fin' : ''}`
      : `kept: needed for the establishment, exercise or defence of legal claims while a dispute is open (GDPR art. 17(3)(e))${afterHold ? '; erased once it ends' : ''}`;
  if (basis === '18' || basis.startsWith('restricted'))
    return fr
      ? `conservé(s) sans autre traitement, selon la limitation que vous avez demandée (RGPD, art. 18)${afterHold ? ' ; effacé(s) quand elle sera levée' : ''}`
      : `kept and not otherwise processed, under the restriction you asked for (GDPR art. 18)${afterHold ? '; erased once it is lifted' : ''}`;
  if (basis.startsWith('other purposes'))
    return fr
      ? `conservé(s) pour d'autres finalités que celle à laquelle vous vous opposez${date ? `, jusqu'au ${date}` : ''}`
      : `kept for purposes other than the one you object to${date ? `, until ${date}` : ''}`;
  if (basis.startsWith('archived'))
    return fr
      ? 'non modifié(s) : en archive intermédiaire, tels qu’ils étaient à la clôture du compte'
      : 'unchanged: in the intermediate archive, as they were when the account closed';
  if (basis.startsWith('held for a controller'))
    return fr
      ? 'non modifié(s) : traités pour le compte d’un distributeur, à qui votre demande est transmise'
      : 'unchanged: processed on behalf of a distributor, to whom your request is forwarded';
  if (basis.startsWith('anonymised'))
    return fr
      ? 'non modifié(s) : déjà anonymisé(s), ils ne vous concernent plus'
      : 'unchanged: already anonymised, they no longer relate to you';
  if (basis.startsWith('legal obligation'))
    return fr
      ? 'non modifié(s) : une pièce comptable se corrige par une nouvelle pièce, sans réécrire l’ancienne'
      : 'unchanged: an accounting document is corrected by a new one, not rewritten';
  if (basis.startsWith('third person'))
    return fr
      ? 'non modifié(s) : ces champs peuvent concerner une autre personne (le destinataire d’un cadeau)'
      : 'unchanged: these fields may describe another person (the recipient of a gift)';
  return basis;
}

/** The records of one table, counted: "Commandes (3)". */
function grouped<T extends { readonly table: string }>(
  items: readonly T[] | undefined,
  key: (item: T) => string,
  ctx: LetterContext,
  lang: Language,
  line: (first: T) => string,
): string[] {
  const groups = new Map<string, T[]>();
  for (const item of items ?? []) {
    const k = `${item.table}\u0000${key(item)}`;
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return [...groups.values()].map((list) => {
    const first = list[0] as T;
    const name = localise(ctx.names?.get(first.table), lang) || first.table;
    return `  - ${name} (${list.length})${lang === 'fr' ? ' : ' : ': '}${line(first)}`;
  });
}

/** What was done: erased, kept and why (basis and until when), forwarded; the package for access. */
export function completionLetter(ctx: LetterContext, facts: CompletionFacts): Letter {
  return compose(ctx, (lang) => {
    const fr = lang === 'fr';
    const t = ctx.request.type;
    const body: string[] = ['Bonjour,', '', intro(ctx, lang)];
    const nothing =
      facts.found === 0 && !facts.erased?.length && !facts.kept?.length && !facts.forwarded?.length;
    if (t === 'access' || t === 'portability') {
      body.push(
        fr
          ? nothing
            ? "Nous ne détenons aucune donnée vous concernant. La réponse l'indique :"
            : t === 'access'
              ? 'Voici vos données personnelles, avec pour chacune sa finalité, sa base légale, ses destinataires et sa durée de conservation :'
              : 'Voici les données que vous nous avez fournies, dans un format structuré et lisible par machine (JSON et CSV) :'
          : nothing
            ? 'We hold no data about you. The answer says so:'
            : t === 'access'
              ? 'Here is your personal data, with, for each item, its purpose, legal basis, recipients and how long it is kept:'
              : 'Here is the data you provided to us, in a structured, machine-readable format (JSON and CSV):',
      );
      for (const f of facts.files ?? []) body.push(`  - ${f}`);
      body.push(
        '',
        facts.delivery === 'mail'
          ? fr
            ? 'Ces fichiers sont joints à ce message.'
            : 'These files are attached to this message.'
          : fr
            ? 'Ces fichiers vous sont remis à part, par un moyen sûr, par notre délégué à la protection des données.'
            : 'These files are handed to you separately, by a secure means, by our data protection officer.',
      );
    } else if (nothing) {
      body.push(fr ? 'Nous ne détenons aucune donnée vous concernant.' : 'We hold no data about you.');
    } else {
      body.push(fr ? 'Elle est traitée :' : 'It has been carried out:');
      if (facts.erased?.length) {
        body.push('', fr ? 'Effacé :' : 'Erased:');
        body.push(
          ...grouped(
            facts.erased,
            (e) => e.action,
            ctx,
            lang,
            (e) => ACTIONS[lang][e.action],
          ),
        );
      }
      if (facts.rectified?.length) {
        body.push('', fr ? 'Rectifié :' : 'Rectified:');
        body.push(
          ...grouped(
            facts.rectified,
            (r) => r.fields.join(','),
            ctx,
            lang,
            (r) => `${r.fields.join(', ')}`,
          ),
        );
      }
      if (facts.restricted?.length) {
        body.push(
          '',
          fr
            ? 'Limité (conservé, sans autre traitement, jusqu’à ce que la limitation soit levée ; nous vous préviendrons avant) :'
            : 'Restricted (kept, not otherwise processed, until the restriction is lifted; we will tell you before):',
        );
        body.push(
          ...grouped(
            facts.restricted,
            () => '',
            ctx,
            lang,
            () => (fr ? 'limité(s)' : 'restricted'),
          ),
        );
      }
      const kept = [...(facts.kept ?? []), ...(facts.unchanged ?? []).map((u) => ({ ...u, until: null }))];
      if (kept.length) {
        body.push('', fr ? 'Conservé, et pourquoi :' : 'Kept, and why:');
        body.push(
          ...grouped(
            kept,
            (k) => `${k.basis}:${k.until}`,
            ctx,
            lang,
            (k) => basisText(k.basis, k.until, lang, (k as { afterHold?: string }).afterHold),
          ),
        );
      }
      if (facts.forwarded?.length) {
        const controllers = [...new Set(facts.forwarded.map((f) => f.controller))].join(', ');
        body.push(
          '',
          fr
            ? `Transmis : des données que nous traitons pour le compte de ${controllers}, responsable(s) de leur traitement, qui décide(nt) de la suite ; nous agirons sur ses instructions.`
            : `Forwarded: data we process on behalf of ${controllers}, the controller(s) of it, who decide(s) what follows; we will act on their instruction.`,
        );
      }
      if (facts.suppressed)
        body.push(
          '',
          fr
            ? 'Votre adresse est inscrite, sous forme chiffrée, sur notre liste d’opposition : vous ne serez plus sollicité(e).'
            : 'Your address is on our suppression list, as a keyed hash: you will not be contacted again.',
        );
    }
    body.push(
      '',
      fr
        ? `Si cette réponse ne vous satisfait pas, vous pouvez introduire une réclamation auprès de ${authority(ctx.organisation, 'fr')}.`
        : `If this answer does not satisfy you, you may lodge a complaint with ${authority(ctx.organisation, 'en')}.`,
    );
    return {
      subject: fr
        ? `${SHORT.fr[t]} n° ${ctx.request.id} : traitée`
        : `${SHORT.en[t]} no. ${ctx.request.id}: carried out`,
      body,
    };
  });
}

/** How a request's completion letter is delivered: `none` when the DPO answers by other means. */
export type Delivery = 'mail' | 'letter' | 'none';
export const DELIVERIES = ['mail', 'letter', 'none'] as const satisfies readonly Delivery[];

/**
 * The letters a request owes the person and has not yet delivered (sent, or written to the
 * outbox): the extension's while extended and open, the refusal's once refused, the completion's once
 * carried out, unless its run said `--delivery none`.
 */
export function lettersOwed(request: {
  readonly status: string;
  readonly extendedMonths: number;
  readonly details: Record<string, unknown>;
  readonly outcome: Record<string, unknown> | null;
}): ('refusal' | 'extension' | 'completion')[] {
  const letters = (request.details.letters as { kind: string; via: string }[] | undefined) ?? [];
  const delivered = (kind: string) => letters.some((l) => l.kind === kind && l.via !== 'failed');
  const owed: ('refusal' | 'extension' | 'completion')[] = [];
  // Once the request is closed, its last letter says all: an extension's is no longer owed.
  const open = request.status !== 'done' && request.status !== 'refused';
  if (open && request.extendedMonths > 0 && !delivered('extension')) owed.push('extension');
  if (request.status === 'refused' && !delivered('refusal')) owed.push('refusal');
  if (
    request.status === 'done' &&
    request.outcome !== null &&
    request.outcome.delivery !== 'none' &&
    !delivered('completion')
  )
    owed.push('completion');
  return owed;
}
