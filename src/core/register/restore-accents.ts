/**
 * Published tables often set their titles in capitals, and capitals in French often drop their
 * accents ("INSCRIPTION A LA NEWSLETTER"). A draft register needs the words as a DPO writes
 * them: in sentence case, with their accents ("Inscription à la newsletter").
 *
 * No maintained library restores French accents (see docs/decisions.md, issue 23): this is a
 * list of the accented words that privacy tables use, looked up without their accents. A word
 * not in the list is only put in small letters; a word the list does not know stays unaccented,
 * which `validate` does not hide (the DPO reads the names in the draft).
 */

import type { Language } from '../text.js';

/**
 * Accented words of processing names, purposes and retention phrases, as written. A plural (+s)
 * is derived for nouns and adjectives. A form is listed only when its spelling without accents
 * is no other French word: "collectées" is, "collecté" is not (la collecte), nor "dès" (des),
 * "là" (la), "où" (ou), "commandé" (une commande), "facturé" (une facture).
 */
const ACCENTED = `
  accès activité adhérent adhérente âge année bénéficiaire bénévole biométrie biométrique
  catégorie chèque clientèle comité comptabilité conformité congé coordonnée créance crédit
  débit décès déclaration défaut délai délégué démarchage dépôt désabonnement désinscription
  détail détention donnée durée échéance école édition élection élève émargement employé
  enquête entrée équipe état étude été évaluation événement évènement exécution expédition
  fidélité fiscalité fréquentation gérant géolocalisation habilitation hébergement identité
  impayé intérêt intérimaire itinéraire mécénat médecin médecine médiation métier nécessité
  opération période pénalité préférence prélèvement première préparation prévention prévoyance
  procédure propriété qualité réception réclamation référence règlement rémunération répertoire
  réponse représentant réservation résiliation résultat réunion révision rôle salarié
  santé sécurité sélection séjour société succès sûreté système téléphone téléphonie
  carrière clôture compétence confidentialité diplôme disponibilité évolution expérience
  intégrité mobilité numéro réseaux sécurisation trésorerie vérification vidéo vidéoprotection vidéosurveillance télésurveillance
  économique électronique éventuel éventuelle étranger étrangère légal légale légaux légitime
  médical médicale médicaux nécessaire pénal pénale privée préalable réel réelle dernière
  réglementaire spécifique téléphonique dématérialisé
  collectée concernée concernés conservée demandée envoyée recommandée
  réalisée traitée utilisée utilisés
`;

/**
 * Words that take no s: prepositions, adverbs, verbs in the infinitive. A lone "A" in a table's
 * title is the preposition ("inscription à la newsletter"): the verb ("il a") is not written there.
 */
const INVARIABLE = `
  à après auprès déjà très
  accéder contrôler créer déclarer délivrer désinscrire éditer élaborer établir évaluer
  exécuter fidéliser générer gérer intégrer opérer préparer prévenir procéder protéger
  réaliser réceptionner récupérer référencer régler répondre réserver résilier sécuriser
  sélectionner télécharger vérifier
`;

/** Capital abbreviations a table uses, kept as they are. */
const ACRONYMS = new Set([
  'CNIL',
  'RGPD',
  'GDPR',
  'DPO',
  'DPD',
  'RH',
  'CV',
  'SAV',
  'SMS',
  'TVA',
  'UE',
  'EU',
  'CRM',
  'IP',
  'URL',
  'FAQ',
  'SEPA',
  'RIB',
  'IBAN',
  'NIR',
  'RCS',
  'SIRET',
  'URSSAF',
  'CSE',
  'PME',
]);

const plain = (word: string) => word.normalize('NFD').replace(/[\u0300-\u036f]/g, '');

const FORMS: ReadonlyMap<string, string> = (() => {
  const forms = new Map<string, string>();
  const add = (word: string) => {
    if (!forms.has(plain(word))) forms.set(plain(word), word);
  };
  for (const word of INVARIABLE.split(/\s+/).filter(Boolean)) add(word);
  for (const word of ACCENTED.split(/\s+/).filter(Boolean)) {
    add(word);
    if (!/[sxz]$/.test(word)) add(`${word}s`);
  }
  return forms;
})();

/** Whether a text is set in capitals: some letters, none of them small. */
export function isInCapitals(text: string): boolean {
  return /\p{Lu}/u.test(text) && !/\p{Ll}/u.test(text);
}

/** One word of a text in capitals, in small letters, with its accents when the list knows it. */
function restoreWord(word: string, lang: Language): string {
  if (ACRONYMS.has(plain(word))) return word;
  const lower = word.toLowerCase();
  if (lang !== 'fr') return lower;
  return FORMS.get(plain(lower)) ?? lower;
}

/**
 * A text in capitals in sentence case, French accents restored: "INSCRIPTION A LA NEWSLETTER"
 * → "Inscription à la newsletter". A text with small letters is returned as it is (its author
 * wrote its accents). English text is only put in sentence case.
 */
export function restoreAccents(text: string, lang: Language = 'fr'): string {
  if (!isInCapitals(text)) return text;
  const words = text.replace(/\p{L}+/gu, (word) => restoreWord(word, lang));
  // A capital at the start and after the end of a sentence.
  return words.replace(
    /(^|[.!?]\s+)(\p{Ll})/gu,
    (_, before: string, letter: string) => `${before}${letter.toUpperCase()}`,
  );
}
