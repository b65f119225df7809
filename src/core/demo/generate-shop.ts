/**
 * Generates the reference shop, deterministically: the same seed and date give the same rows,
 * whatever the database. Customers are made in blocks; each block draws from its own random
 * stream, so memory stays flat at any size. French-looking people come from faker's fr locale,
 * drawn once into pools; the rows then pick from the pools with a fast seeded generator.
 */
import { fakerFR } from '@faker-js/faker';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { parseCalendarDate } from '../retention/calendar.js';
import { SHOP_TABLES } from './shop-model.js';

export interface GenerateShopOptions {
  readonly customers: number;
  readonly seed: number;
  /** The date the shop is seen from (`YYYY-MM-DD`): records spread over the 12 years before it. */
  readonly at: string;
  /** Customers per block (one random stream and one transaction each). */
  readonly blockSize?: number;
}

export type Row = unknown[];

export interface ShopChunk {
  readonly rows: ReadonlyMap<string, Row[]>;
  readonly files: readonly { readonly path: string; readonly content: string }[];
  /** Customers made so far, for a progress bar. */
  readonly customersDone: number;
}

const DAY = 86_400;
/** 1 / P(a customer has an order): 0 to 6 orders, uniformly. */
const WITH_ORDERS = 7 / 6;
const CITIES: readonly (readonly [string, string])[] = [
  ['Paris', '75011'],
  ['Paris', '75015'],
  ['Paris', '75018'],
  ['Marseille', '13008'],
  ['Lyon', '69003'],
  ['Lyon', '69007'],
  ['Toulouse', '31000'],
  ['Nice', '06000'],
  ['Nantes', '44000'],
  ['Montpellier', '34000'],
  ['Strasbourg', '67000'],
  ['Bordeaux', '33000'],
  ['Lille', '59000'],
  ['Rennes', '35000'],
  ['Reims', '51100'],
  ['Toulon', '83000'],
  ['Saint-Étienne', '42000'],
  ['Le Havre', '76600'],
  ['Grenoble', '38000'],
  ['Dijon', '21000'],
  ['Angers', '49000'],
  ['Nîmes', '30000'],
  ['Villeurbanne', '69100'],
  ['Clermont-Ferrand', '63000'],
  ['Le Mans', '72000'],
  ['Aix-en-Provence', '13100'],
  ['Brest', '29200'],
  ['Tours', '37000'],
  ['Amiens', '80000'],
  ['Limoges', '87000'],
  ['Annecy', '74000'],
  ['Perpignan', '66000'],
  ['Metz', '57000'],
  ['Besançon', '25000'],
  ['Orléans', '45000'],
  ['Rouen', '76000'],
  ['Mulhouse', '68100'],
  ['Caen', '14000'],
  ['Nancy', '54000'],
  ['Pau', '64000'],
  ['La Rochelle', '17000'],
  ['Poitiers', '86000'],
  ['Avignon', '84000'],
  ['Ajaccio', '20000'],
];
const DOMAINS = [
  'gmail.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'sfr.fr',
  'hotmail.fr',
  'outlook.fr',
  'yahoo.fr',
  'wanadoo.fr',
];
const MARKETPLACES = ['Amazon', 'Cdiscount', 'Fnac', 'ManoMano', 'Rakuten'];
const PAGES = [
  '/',
  '/boutique',
  '/produits/huile-olive',
  '/produits/savon-marseille',
  '/blog',
  '/blog/recettes',
  '/panier',
  '/compte',
  '/contact',
  '/ambassadeurs',
];
const REFERRERS = [
  null,
  null,
  'https://www.google.fr/',
  'https://www.bing.com/',
  'https://www.instagram.com/',
  'https://www.facebook.com/',
  'https://www.qwant.com/',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
];
const SUBJECTS = [
  'Retard de livraison',
  'Produit abîmé',
  'Question sur un produit',
  'Modifier ma commande',
  'Problème de connexion',
  'Remboursement',
  'Facture',
];
const SUPPLIERS = [
  'Huilerie du Midi',
  'Savonnerie Marius',
  'Épices & Co',
  'Conserverie Bretonne',
  'Miellerie des Alpes',
];
const JOBS = ['DEV-2024-01', 'LOG-2023-04', 'SAV-2025-02', 'MKT-2022-07', 'CPT-2021-03', 'DEV-2026-05'];

/** The pools faker fills once, from the seed. */
function makePools(seed: number) {
  fakerFR.seed(seed);
  const many = <T>(n: number, f: () => T) => Array.from({ length: n }, f);
  return {
    firstNames: many(400, () => fakerFR.person.firstName()),
    lastNames: many(600, () => fakerFR.person.lastName()),
    streets: many(800, () => fakerFR.location.streetAddress()),
    companies: many(200, () => fakerFR.company.name()),
    words: many(300, () => fakerFR.lorem.sentence()),
  };
}

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const DAYS = new Map<number, string>();

/** `YYYY-MM-DD HH:MM:SS` (SQLite's own format), fast: the day part is computed once per day. */
function formatTs(seconds: number): string {
  const day = Math.floor(seconds / DAY);
  let date = DAYS.get(day);
  if (date === undefined) {
    date = new Date(day * DAY * 1000).toISOString().slice(0, 10);
    DAYS.set(day, date);
  }
  const s = seconds - day * DAY;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${date} ${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s % 60]}`;
}

/** Deterministic rows of the reference shop, a block of customers at a time. */
export function* generateShop(options: GenerateShopOptions): Generator<ShopChunk> {
  const pools = makePools(options.seed);
  const atSec = Date.parse(`${parseCalendarDate(options.at)}T00:00:00Z`) / 1000;
  const startSec = atSec - Math.round(12 * 365.25 * DAY);
  const blockSize = options.blockSize ?? 250;
  const ids: Record<string, number> = Object.fromEntries(SHOP_TABLES.map((t) => [t.name, 0]));
  const next = (t: string) => {
    ids[t] = (ids[t] ?? 0) + 1;
    return ids[t] as number;
  };

  let rng = xoroshiro128plus(options.seed);
  const int = (min: number, max: number) => uniformInt(rng, min, max);
  const chance = (p: number) => uniformInt(rng, 0, 999_999) < p * 1_000_000;
  const pick = <T>(list: readonly T[]): T => list[uniformInt(rng, 0, list.length - 1)] as T;
  const between = (from: number, to: number) => (to <= from ? from : int(from, to - 1));
  const count = (rate: number, n: number) => {
    const exact = rate * n;
    const whole = Math.floor(exact);
    return whole + (chance(exact - whole) ? 1 : 0);
  };
  const hex = (n: number) => {
    let s = '';
    while (s.length < n) s += (int(0, 0x7fffffff) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, n);
  };
  const phone = () => `0${pick(['6', '7'])} ${int(10, 99)} ${int(10, 99)} ${int(10, 99)} ${int(10, 99)}`;
  const person = (tag: string, id: number) => {
    const first = pick(pools.firstNames);
    const last = pick(pools.lastNames);
    return { first, last, email: `${ascii(first)}.${ascii(last)}.${tag}${id}@${pick(DOMAINS)}` };
  };
  const ts = (sec: number | null) => (sec === null ? null : formatTs(sec));
  const capped = (sec: number) => (sec < atSec ? sec : null);

  // Twenty distributors, two of them with an ended contract.
  const distributors: { id: number; start: number; end: number | null }[] = [];
  {
    const rows: Row[] = [];
    for (let i = 0; i < 20; i++) {
      const id = next('distributors');
      const start = between(startSec, atSec - 400 * DAY);
      const end = i === 18 ? atSec - 10 * DAY : i === 19 ? atSec - int(200, 600) * DAY : null;
      distributors.push({ id, start, end });
      const name = `${pick(pools.companies)} Distribution`;
      rows.push([
        id,
        name,
        `contact@${ascii(name).slice(0, 20)}.example`,
        ts(start),
        ts(end),
        pick([12, 24, 36, 60, null]),
        i % 3 === 0 ? 'return' : 'delete',
      ]);
    }
    yield { rows: new Map([['distributors', rows]]), files: [], customersDone: 0 };
  }

  for (let done = 0, block = 0; done < options.customers; done += blockSize, block++) {
    rng = xoroshiro128plus((options.seed * 1_000_003 + block * 7_919 + 17) | 0);
    const n = Math.min(blockSize, options.customers - done);
    const out = new Map<string, Row[]>(SHOP_TABLES.map((t) => [t.name, []]));
    const files: { path: string; content: string }[] = [];
    const push = (t: string, row: Row) => (out.get(t) as Row[]).push(row);
    const blockDistributorOrders: { id: number; placed: number }[] = [];

    for (let c = 0; c < n; c++) {
      const id = next('customers');
      const who = person('c', id);
      const [city, postal] = pick(CITIES);
      const street = pick(pools.streets);
      const created = between(startSec, atSec);
      const closed = chance(0.08) ? between(created, atSec) : null;
      const end = closed ?? atSec;
      const lastLogin = chance(0.75) ? between(created, end) : null;
      const tel = phone();
      push('customers', [
        id,
        who.email,
        `$2b$10$${hex(53)}`,
        who.first,
        who.last,
        tel,
        street,
        postal,
        city,
        'FR',
        ts(created),
        ts(lastLogin),
        ts(closed),
      ]);

      const orders: { id: number; placed: number }[] = [];
      for (let k = int(0, 6); k > 0; k--) {
        const oid = next('orders');
        const placed = between(created, end);
        const delivered = chance(0.92) ? capped(placed + int(1, 7) * DAY + int(0, DAY)) : null;
        const marketplace = chance(0.3) ? pick(MARKETPLACES) : null;
        const other = chance(0.3) ? person('s', oid) : null;
        const [shipCity, shipPostal] = other ? pick(CITIES) : [city, postal];
        const total = int(990, 25_000);
        push('orders', [
          oid,
          id,
          marketplace ? 'marketplace' : 'shop',
          marketplace,
          ts(placed),
          ts(delivered),
          delivered ? 'delivered' : chance(0.5) ? 'cancelled' : 'shipped',
          total,
          other ? `${other.first} ${other.last}` : `${who.first} ${who.last}`,
          other ? pick(pools.streets) : street,
          shipPostal,
          shipCity,
          'FR',
          other ? phone() : tel,
        ]);
        const debited = Math.min(placed + int(0, 2 * DAY), atSec - 1);
        push('payments', [
          next('payments'),
          oid,
          String(int(0, 9999)).padStart(4, '0'),
          `tok_${hex(24)}`,
          `${String(int(1, 12)).padStart(2, '0')}/${String((new Date(placed * 1000).getUTCFullYear() + int(1, 4)) % 100).padStart(2, '0')}`,
          chance(0.15) ? 1 : 0,
          ts(debited),
        ]);
        const iid = next('invoices');
        const issued = Math.min(placed + int(0, DAY), atSec - 1);
        push('invoices', [
          iid,
          `F${new Date(issued * 1000).getUTCFullYear()}-${String(iid).padStart(8, '0')}`,
          oid,
          chance(0.95) ? id : null,
          ts(issued),
          `${who.first} ${who.last}`,
          street,
          postal,
          city,
          'FR',
          total,
        ]);
        orders.push({ id: oid, placed });
      }
      for (let k = count(0.3, 1); k > 0; k--) {
        const createdAt = between(created, end);
        const closedAt = chance(0.85) ? capped(createdAt + int(0, 14 * DAY)) : null;
        push('support_tickets', [
          next('support_tickets'),
          chance(0.85) ? id : null,
          who.email,
          pick(['email', 'phone', 'form']),
          pick(SUBJECTS),
          pick(pools.words),
          ts(createdAt),
          ts(closedAt),
        ]);
      }
      if (orders.length > 0) {
        for (let k = count(0.05 * WITH_ORDERS, 1); k > 0; k--) {
          const order = pick(orders);
          const kind = chance(0.45) ? 'return' : chance(0.6) ? 'complaint' : 'dispute';
          const opened = Math.min(order.placed + int(1, 60) * DAY, atSec - 1);
          const resolved = chance(kind === 'dispute' ? 0.85 : 0.95)
            ? capped(opened + int(1, 90) * DAY)
            : null;
          push('claims', [next('claims'), order.id, kind, ts(opened), ts(resolved), pick(pools.words)]);
        }
        for (let k = count(0.2 * WITH_ORDERS, 1); k > 0; k--) {
          const order = pick(orders);
          push('satisfaction_calls', [
            next('satisfaction_calls'),
            id,
            ts(Math.min(order.placed + int(3, 30) * DAY, atSec - 1)),
            chance(0.8) ? int(1, 10) : null,
            chance(0.3) ? pick(pools.words) : null,
          ]);
        }
      }
      const visitors = [hex(16), hex(16)];
      for (let k = count(10, 1); k > 0; k--) {
        push('web_visits', [
          next('web_visits'),
          pick(visitors),
          `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
          pick(AGENTS),
          pick(PAGES),
          pick(REFERRERS),
          ts(between(startSec, atSec)),
        ]);
      }
      for (let k = count(0.3, 1); k > 0; k--) {
        const sid = next('newsletter_subscribers');
        const subscribed = between(startSec, atSec);
        const unsubscribed = chance(0.1) ? between(subscribed, atSec) : null;
        const click = chance(0.55) ? between(subscribed, unsubscribed ?? atSec) : null;
        const email = chance(0.5) ? who.email : person('n', sid).email;
        push('newsletter_subscribers', [
          sid,
          email,
          chance(0.7) ? who.first : null,
          pick(['footer', 'checkout', 'popup', 'salon']),
          ts(subscribed),
          `v${1 + Math.floor(((subscribed - startSec) / (atSec - startSec)) * 4)}`,
          ts(unsubscribed),
          ts(click),
        ]);
      }
      const did = next('distributor_orders');
      const distributor = pick(distributors);
      const dPlaced = between(Math.max(distributor.start, startSec), distributor.end ?? atSec);
      const buyer = person('d', did);
      const [dCity, dPostal] = pick(CITIES);
      push('distributor_orders', [
        did,
        distributor.id,
        `${buyer.first} ${buyer.last}`,
        buyer.email,
        phone(),
        `${pick(pools.streets)}, ${dPostal} ${dCity}`,
        ts(dPlaced),
        pick(['received', 'shipped', 'delivered']),
      ]);
      blockDistributorOrders.push({ id: did, placed: dPlaced });
    }

    for (let k = count(0.5, n); k > 0; k--) {
      const pid = next('prospects');
      const who = person('p', pid);
      const collected = between(startSec, atSec);
      push('prospects', [
        pid,
        who.email,
        who.first,
        who.last,
        chance(0.5) ? pick(pools.companies) : null,
        chance(0.6) ? phone() : null,
        pick(['form', 'salon', 'chat', 'catalogue']),
        ts(collected),
        ts(chance(0.5) ? between(collected, atSec) : null),
      ]);
    }
    for (let k = count(0.05, n); k > 0; k--) {
      push('suppression_list', [
        next('suppression_list'),
        hex(64),
        pick(['unsubscribe', 'unsubscribe', 'objection', 'erasure']),
        ts(between(startSec, atSec)),
      ]);
    }
    for (let k = count(0.05, n); k > 0; k--) {
      const cid = next('candidates');
      const who = person('r', cid);
      const applied = between(startSec, atSec);
      const r = int(0, 99);
      const status =
        r < 15 ? 'applied' : r < 25 ? 'interviewing' : r < 35 ? 'hired' : r < 90 ? 'rejected' : 'withdrawn';
      const ended =
        status === 'applied' || status === 'interviewing'
          ? null
          : Math.min(applied + int(10, 90) * DAY, atSec - 1);
      const lastContact = ended ?? Math.min(applied + int(0, 60) * DAY, atSec - 1);
      const pool = chance(0.3);
      const cv = chance(0.85) ? `cv/${cid}.pdf` : null;
      if (cv) files.push({ path: cv, content: `%PDF-1.4\n% registre demo: CV of candidate ${cid}\n%%EOF\n` });
      push('candidates', [
        cid,
        who.email,
        who.first,
        who.last,
        phone(),
        pick(CITIES)[0],
        cv,
        pick(JOBS),
        status,
        ts(applied),
        ts(ended),
        ts(lastContact),
        pool ? 1 : 0,
        pool ? ts(lastContact) : null,
      ]);
    }
    for (let k = count(0.01, n); k > 0; k--) {
      const aid = next('ambassadors');
      const who = person('a', aid);
      const applied = between(startSec, atSec);
      const r = int(0, 99);
      const status =
        r < 15 ? 'applicant' : r < 25 ? 'selected' : r < 65 ? 'rejected' : r < 85 ? 'active' : 'ended';
      const decided = status === 'applicant' ? null : capped(applied + int(5, 60) * DAY);
      const started = decided !== null && status !== 'rejected' ? capped(decided + int(5, 30) * DAY) : null;
      const ended =
        status === 'ended' && started !== null ? Math.min(started + int(180, 1000) * DAY, atSec - 1) : null;
      const video = chance(0.7) ? `videos/${aid}.mp4` : null;
      if (video)
        files.push({ path: video, content: `registre demo: presentation video of ambassador ${aid}\n` });
      const address =
        started !== null ? `${pick(pools.streets)}, ${pick(CITIES)[1]} ${pick(CITIES)[0]}` : null;
      push('ambassadors', [
        aid,
        who.email,
        who.first,
        who.last,
        phone(),
        `@${ascii(who.first)}_${ascii(who.last)}`,
        int(500, 250_000),
        status,
        ts(applied),
        ts(decided),
        ts(started),
        ts(ended),
        ts(chance(0.6) ? between(applied, atSec) : null),
        video,
        address,
      ]);
      for (let s = 0; s < 3; s++) {
        push('ambassador_shipments', [
          next('ambassador_shipments'),
          aid,
          `SKU-${int(1000, 9999)}`,
          address ?? `${pick(pools.streets)}, ${pick(CITIES)[0]}`,
          ts(between(applied, ended ?? atSec)),
        ]);
      }
    }
    if (blockDistributorOrders.length > 0) {
      for (let k = count(0.02, n); k > 0; k--) {
        const order = pick(blockDistributorOrders);
        const opened = Math.min(order.placed + int(1, 30) * DAY, atSec - 1);
        push('supplier_disputes', [
          next('supplier_disputes'),
          order.id,
          pick(SUPPLIERS),
          ts(opened),
          ts(chance(0.8) ? capped(opened + int(1, 120) * DAY) : null),
          pick(pools.words),
        ]);
      }
    }
    yield { rows: out, files, customersDone: done + n };
  }
}
