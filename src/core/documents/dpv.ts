/**
 * The register as W3C Data Privacy Vocabulary (DPV) JSON-LD, with its own compact @context.
 * Each activity is a dpv:Process; each purpose a nested process with its legal basis
 * (eu-gdpr:A6-1-x) and its storage conditions (ISO 8601 durations, or "until an event").
 */

import type { Register } from '../register/register-load.js';
import {
  activityControllers,
  findRecord,
  isCnilCategory,
  orderedActivities,
  rulesForPurpose,
} from '../register/register-model.js';
import type { RetentionRule } from '../register/register-schema.js';
import { isoDuration, parseDuration } from '../retention/calendar.js';
import { describeRule } from './describe-rule.js';
import { CNIL_CATEGORY_DPV, LEGAL_BASIS_ARTICLE } from './labels.js';

export const DPV_CONTEXT = {
  dpv: 'https://w3id.org/dpv#',
  pd: 'https://w3id.org/dpv/pd#',
  'eu-gdpr': 'https://w3id.org/dpv/legal/eu/gdpr#',
  dct: 'http://purl.org/dc/terms/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  title: { '@id': 'dct:title', '@container': '@language' },
  description: { '@id': 'dct:description', '@container': '@language' },
  identifier: 'dct:identifier',
  duration: { '@id': 'rdf:value', '@type': 'xsd:duration' },
} as const;

type Node = Record<string, unknown>;

function texts(text: unknown): Record<string, string> {
  if (typeof text === 'string') return { fr: text };
  return Object.fromEntries(
    Object.entries((text ?? {}) as Record<string, string>).filter(([, v]) => Boolean(v)),
  );
}

function iri(base: string, kind: string, id: string): string {
  return `${base}${kind}/${encodeURIComponent(id)}`;
}

function storageCondition(register: Register, base: string, rule: RetentionRule): Node {
  const node: Node = {
    '@id': iri(base, 'retention', rule.id),
    identifier: rule.id,
    description: { fr: describeRule(register, rule, 'fr'), en: describeRule(register, rule, 'en') },
  };
  const fixed =
    typeof rule.keep === 'string' && rule.until === undefined && rule.follows === undefined
      ? parseDuration(rule.keep)
      : null;
  if (fixed?.ok && !rule.archive) {
    node['@type'] = 'dpv:StorageDuration';
    node['dpv:hasDuration'] = { '@type': 'dpv:TemporalDuration', duration: isoDuration(fixed.duration) };
  } else if (fixed?.ok && rule.archive) {
    const archive = parseDuration(rule.archive.keep);
    node['@type'] = 'dpv:StorageDuration';
    node['dpv:hasDuration'] = {
      '@type': 'dpv:TemporalDuration',
      duration: archive.ok ? isoDuration(archive.duration) : isoDuration(fixed.duration),
    };
  } else {
    node['@type'] = 'dpv:StorageDuration';
    node['dpv:hasDuration'] = {
      '@type': 'dpv:UntilEventDuration',
      description: { fr: describeRule(register, rule, 'fr'), en: describeRule(register, rule, 'en') },
    };
  }
  const record = findRecord(register, rule.record);
  if (record) node['dpv:hasData'] = { '@id': iri(base, 'record', record.id) };
  return node;
}

function personalData(register: Register, ids: readonly string[]): Node[] {
  return ids.map((id) => {
    if (isCnilCategory(id)) return { '@id': CNIL_CATEGORY_DPV[id] ?? 'dpv:PersonalData' };
    const category = register.dataCategories.find((c) => c.id === id);
    return category?.dpv ? { '@id': category.dpv } : { '@id': 'dpv:PersonalData' };
  });
}

/** The register as a JSON-LD document (`@context` + `@graph`). */
export function buildDpv(
  register: Register,
  base = `urn:registre:${register.organisation.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}:`,
): Node {
  const org = register.organisation;
  const orgNode: Node = {
    '@id': iri(base, 'organisation', 'self'),
    '@type': 'dpv:Organisation',
    title: { fr: org.name, en: org.name },
  };
  const graph: Node[] = [orgNode];
  // A group of controllers (`memberOf`) is no controller itself: its members are.
  for (const c of register.controllers.filter((g) => !register.controllers.some((m) => m.memberOf === g.id)))
    graph.push({ '@id': iri(base, 'controller', c.id), '@type': 'dpv:DataController', title: texts(c.name) });
  for (const r of register.recipients)
    graph.push({
      '@id': iri(base, 'recipient', r.id),
      '@type': r.kind === 'processor' ? 'dpv:DataProcessor' : 'dpv:Recipient',
      title: texts(r.name),
    });
  for (const s of register.dataSubjects)
    graph.push({ '@id': iri(base, 'subject', s.id), '@type': 'dpv:DataSubject', title: texts(s.name) });
  for (const rec of register.records)
    graph.push({ '@id': iri(base, 'record', rec.id), '@type': 'dpv:Data', title: texts(rec.name) });
  for (const activity of orderedActivities(register)) {
    const processor = activity.role === 'processor';
    graph.push({
      '@id': iri(base, 'activity', activity.id),
      '@type': 'dpv:Process',
      identifier: activity.ref ?? activity.id,
      title: texts(activity.name),
      [processor ? 'dpv:hasDataProcessor' : 'dpv:hasDataController']: { '@id': orgNode['@id'] },
      ...(processor
        ? {
            'dpv:hasDataController': activityControllers(register, activity).map((c) => ({
              '@id': iri(base, 'controller', c.id),
            })),
          }
        : {}),
      'dpv:hasDataSubject': activity.dataSubjects.map((s) => ({ '@id': iri(base, 'subject', s) })),
      'dpv:hasPersonalData': personalData(register, activity.dataCategories),
      'dpv:hasRecipient': (activity.recipients ?? []).map((r) => ({ '@id': iri(base, 'recipient', r) })),
      'dpv:hasProcess': activity.purposes.map((p) => ({
        '@id': iri(base, 'purpose', p.id),
        '@type': 'dpv:Process',
        identifier: p.id,
        'dpv:hasPurpose': {
          '@id': iri(base, 'purpose-concept', p.id),
          '@type': 'dpv:Purpose',
          description: texts(p.name),
        },
        'dpv:hasLegalBasis': { '@id': `eu-gdpr:${LEGAL_BASIS_ARTICLE[p.legalBasis]}` },
        ...(p.dataCategories ? { 'dpv:hasPersonalData': personalData(register, p.dataCategories) } : {}),
        'dpv:hasStorageCondition': rulesForPurpose(register, p.id).map((r) => ({
          '@id': iri(base, 'retention', r.id),
        })),
      })),
    });
  }
  for (const rule of register.retention) graph.push(storageCondition(register, base, rule));
  return { '@context': DPV_CONTEXT, '@graph': graph };
}
