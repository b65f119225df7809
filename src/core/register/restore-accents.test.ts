import { describe, expect, it } from 'vitest';
import { isInCapitals, restoreAccents } from './restore-accents.js';

describe('restoreAccents', () => {
  it.each([
    ['INSCRIPTION A LA NEWSLETTER', 'Inscription à la newsletter'],
    ['GESTION DU SITE INTERNET', 'Gestion du site internet'],
    ['DONNEES COLLECTEES', 'Données collectées'],
    ['DUREES DE CONSERVATION', 'Durées de conservation'],
    ['GERER LA SECURITE DES DONNEES DES EMPLOYES', 'Gérer la sécurité des données des employés'],
    ['DELAI DE RESILIATION', 'Délai de résiliation'],
    ['3 ANNEES APRES LA FIN DU CONTRAT', '3 années après la fin du contrat'],
    ['PROSPECTION ET FACTURATION', 'Prospection et facturation'],
    ["GESTION DE L'ACCES AUX LOCAUX", "Gestion de l'accès aux locaux"],
    ['SERVICE APRES-VENTE (SAV)', 'Service après-vente (SAV)'],
    ['DUREE RECOMMANDEE PAR LA CNIL. 13 MOIS', 'Durée recommandée par la CNIL. 13 mois'],
    ['DONNÉES DÉJÀ ACCENTUÉES', 'Données déjà accentuées'],
  ])('%s → %s', (text, expected) => {
    expect(restoreAccents(text)).toBe(expected);
  });

  it('keeps words whose unaccented spelling is another word as they are', () => {
    // la collecte, une commande, des (not dès), la (not là), ou (not où).
    expect(restoreAccents('LA COLLECTE DES COMMANDES OU DES FACTURES')).toBe(
      'La collecte des commandes ou des factures',
    );
    expect(restoreAccents('COLLECTES ET CONSERVES')).toBe('Collectes et conserves');
  });

  it('leaves a text with small letters as its author wrote it', () => {
    expect(restoreAccents('Inscription a la Newsletter')).toBe('Inscription a la Newsletter');
    expect(restoreAccents('13 mois')).toBe('13 mois');
  });

  it('in English, only puts the text in sentence case', () => {
    expect(restoreAccents('SIGNING UP TO A NEWSLETTER', 'en')).toBe('Signing up to a newsletter');
    expect(restoreAccents('DATA KEPT BY THE DPO', 'en')).toBe('Data kept by the DPO');
  });

  it('tells a text in capitals', () => {
    expect(isInCapitals('INSCRIPTION A LA NEWSLETTER')).toBe(true);
    expect(isInCapitals('Inscription')).toBe(false);
    expect(isInCapitals('2024')).toBe(false);
  });
});
