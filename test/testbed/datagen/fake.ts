/**
 * Plausible fake values for a Magento shop: people, addresses, contact data,
 * product copy. Everything is derived from the Rng passed in, so output is
 * deterministic. E-mail domains and phone numbers are reserved/fictional.
 */
import type { Rng } from './prng.js';

const FIRST_NAMES_F = [
  'Emma',
  'Olivia',
  'Sophia',
  'Mia',
  'Charlotte',
  'Amelia',
  'Harper',
  'Evelyn',
  'Abigail',
  'Emily',
  'Hannah',
  'Lena',
  'Lea',
  'Marie',
  'Anna',
  'Laura',
  'Julia',
  'Sarah',
  'Chloé',
  'Camille',
  'Léa',
  'Manon',
  'Inès',
  'Zoé',
  'Grace',
  'Lucy',
  'Isla',
  'Ava',
  'Nora',
  'Zoë',
] as const;
const FIRST_NAMES_M = [
  'Liam',
  'Noah',
  'Oliver',
  'Elijah',
  'James',
  'William',
  'Benjamin',
  'Lucas',
  'Henry',
  'Jack',
  'Leon',
  'Paul',
  'Finn',
  'Jonas',
  'Lukas',
  'Felix',
  'Maximilian',
  'Jürgen',
  'Hugo',
  'Louis',
  'Gabriel',
  'Raphaël',
  'Arthur',
  'Jules',
  'Thomas',
  'George',
  'Harry',
  'Samuel',
  'Daniel',
  'Seán',
] as const;
const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Wilson',
  'Anderson',
  'Taylor',
  'Thomas',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  "O'Brien",
  "O'Connor",
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Schulz',
  'Hoffmann',
  'Schäfer',
  'Koch',
  'Bauer',
  'Richter',
  'Klein',
  'Wolf',
  'Schröder',
  'Neumann',
  'Dubois',
  'Durand',
  'Lefèvre',
  'Moreau',
  'Laurent',
  'Simon',
  'Michel',
  'Leroy',
  'Roux',
  'Fournier',
  'van der Berg',
  'de Vries',
  'Janssen',
  'Peeters',
  'MacDonald',
  'Nguyen',
  'Kowalski',
  'Rossi',
  'Silva',
  'Kim',
] as const;
const STREET_NAMES = [
  'Main',
  'Oak',
  'Pine',
  'Maple',
  'Cedar',
  'Elm',
  'Washington',
  'Lake',
  'Hill',
  'Park',
  'Sunset',
  'River',
  'Church',
  'Highland',
  'Mill',
  'Spring',
  'Franklin',
  'Jefferson',
  'Walnut',
  'Chestnut',
] as const;
const STREET_SUFFIX = ['St', 'Ave', 'Rd', 'Blvd', 'Ln', 'Dr', 'Ct', 'Way', 'Pl', 'Terrace'] as const;
const DE_STREETS = [
  'Hauptstraße',
  'Schulstraße',
  'Gartenstraße',
  'Bahnhofstraße',
  'Dorfstraße',
  'Bergstraße',
  'Lindenstraße',
  'Kirchweg',
  'Am Markt',
  'Goethestraße',
  'Schillerstraße',
  'Mühlenweg',
] as const;
const FR_STREETS = [
  'rue de la République',
  'avenue Victor Hugo',
  'rue Pasteur',
  'boulevard Voltaire',
  'rue du Moulin',
  'place de la Mairie',
  "rue de l'Église",
  'chemin des Vignes',
  'rue Jean Jaurès',
  'allée des Tilleuls',
] as const;
const COMPANIES = [
  'Acme Corp',
  'Globex GmbH',
  'Initech LLC',
  'Umbrella SARL',
  'Stark Industries',
  'Wayne Enterprises',
  'Hooli Inc.',
  'Vandelay Industries',
  'Müller & Söhne KG',
  'Duval et Fils',
  'Northwind Traders',
] as const;

interface CityInfo {
  readonly city: string;
  readonly region: string | null;
  readonly regionId: number | null;
  readonly zipPrefix: string;
  readonly country: string;
}

const CITIES_US: readonly CityInfo[] = [
  { city: 'Los Angeles', region: 'California', regionId: 12, zipPrefix: '900', country: 'US' },
  { city: 'San Francisco', region: 'California', regionId: 12, zipPrefix: '941', country: 'US' },
  { city: 'Austin', region: 'Texas', regionId: 57, zipPrefix: '787', country: 'US' },
  { city: 'Houston', region: 'Texas', regionId: 57, zipPrefix: '770', country: 'US' },
  { city: 'New York', region: 'New York', regionId: 43, zipPrefix: '100', country: 'US' },
  { city: 'Miami', region: 'Florida', regionId: 18, zipPrefix: '331', country: 'US' },
  { city: 'Chicago', region: 'Illinois', regionId: 23, zipPrefix: '606', country: 'US' },
  { city: 'Seattle', region: 'Washington', regionId: 62, zipPrefix: '981', country: 'US' },
  { city: 'Denver', region: 'Colorado', regionId: 13, zipPrefix: '802', country: 'US' },
  { city: 'Boston', region: 'Massachusetts', regionId: 32, zipPrefix: '021', country: 'US' },
  { city: 'London', region: null, regionId: null, zipPrefix: 'SW1A', country: 'GB' },
  { city: 'Manchester', region: null, regionId: null, zipPrefix: 'M1', country: 'GB' },
  { city: 'Toronto', region: 'Ontario', regionId: 74, zipPrefix: 'M5V', country: 'CA' },
];
const CITIES_DE: readonly CityInfo[] = [
  { city: 'Berlin', region: 'Berlin', regionId: 82, zipPrefix: '10', country: 'DE' },
  { city: 'München', region: 'Bayern', regionId: 81, zipPrefix: '80', country: 'DE' },
  { city: 'Hamburg', region: 'Hamburg', regionId: 84, zipPrefix: '20', country: 'DE' },
  { city: 'Köln', region: 'Nordrhein-Westfalen', regionId: 88, zipPrefix: '50', country: 'DE' },
  { city: 'Frankfurt am Main', region: 'Hessen', regionId: 85, zipPrefix: '60', country: 'DE' },
  { city: 'Stuttgart', region: 'Baden-Württemberg', regionId: 80, zipPrefix: '70', country: 'DE' },
  { city: 'Wien', region: 'Wien', regionId: 95, zipPrefix: '10', country: 'AT' },
];
const CITIES_FR: readonly CityInfo[] = [
  { city: 'Paris', region: 'Paris', regionId: 257, zipPrefix: '75', country: 'FR' },
  { city: 'Lyon', region: 'Rhône', regionId: 264, zipPrefix: '69', country: 'FR' },
  { city: 'Marseille', region: 'Bouches-du-Rhône', regionId: 195, zipPrefix: '13', country: 'FR' },
  { city: 'Toulouse', region: 'Haute-Garonne', regionId: 214, zipPrefix: '31', country: 'FR' },
  { city: 'Bordeaux', region: 'Gironde', regionId: 216, zipPrefix: '33', country: 'FR' },
  { city: 'Bruxelles', region: null, regionId: null, zipPrefix: '10', country: 'BE' },
];

const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example', 'post.example', 'inbox.example'] as const;

export type Locale = 'en_US' | 'de_DE' | 'fr_FR';

export interface Person {
  readonly prefix: string | null;
  readonly firstname: string;
  readonly middlename: string | null;
  readonly lastname: string;
  /** Magento gender option: 1 male, 2 female, 3 not specified. */
  readonly gender: 1 | 2 | 3;
  /** YYYY-MM-DD */
  readonly dob: string | null;
}

export interface Address {
  readonly street: string;
  readonly city: string;
  readonly region: string | null;
  readonly regionId: number | null;
  readonly postcode: string;
  readonly countryId: string;
  readonly telephone: string;
  readonly company: string | null;
}

export function person(rng: Rng): Person {
  const female = rng.chance(0.52);
  const gender: 1 | 2 | 3 = rng.chance(0.15) ? 3 : female ? 2 : 1;
  const firstname = rng.pick(female ? FIRST_NAMES_F : FIRST_NAMES_M);
  const prefix = rng.chance(0.1) ? (female ? rng.pick(['Ms.', 'Mrs.', 'Dr.']) : rng.pick(['Mr.', 'Dr.'])) : null;
  const middlename = rng.chance(0.08) ? `${rng.chars(1, 'ABCDEFGHJKLMNPRSTW')}.` : null;
  const dob = rng.chance(0.6) ? date(rng, 1945, 2006) : null;
  return { prefix, firstname, middlename, lastname: rng.pick(LAST_NAMES), gender, dob };
}

/** A unique-looking e-mail; `unique` (e.g. the entity id) guarantees uniqueness. */
export function email(rng: Rng, p: Person, unique: number): string {
  const f = asciiFold(p.firstname);
  const l = asciiFold(p.lastname);
  const local = rng.pick([`${f}.${l}${unique}`, `${f[0] ?? 'x'}${l}${unique}`, `${f}_${unique}`, `${l}.${f}.${unique}`]);
  return `${local}@${rng.pick(EMAIL_DOMAINS)}`;
}

export function address(rng: Rng, locale: Locale): Address {
  const info = rng.pick(locale === 'de_DE' ? CITIES_DE : locale === 'fr_FR' ? CITIES_FR : CITIES_US);
  return {
    street: streetLine(rng, locale),
    city: info.city,
    region: info.region,
    regionId: info.regionId,
    postcode: postcode(rng, info),
    countryId: info.country,
    telephone: telephone(rng, info.country),
    company: rng.chance(0.12) ? rng.pick(COMPANIES) : null,
  };
}

function streetLine(rng: Rng, locale: Locale): string {
  const no = rng.int(1, 250);
  if (locale === 'de_DE') return `${rng.pick(DE_STREETS)} ${no}${rng.chance(0.1) ? 'a' : ''}`;
  if (locale === 'fr_FR') return `${no} ${rng.pick(FR_STREETS)}`;
  const line = `${rng.int(1, 9999)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIX)}`;
  return rng.chance(0.15) ? `${line}\nApt ${rng.int(1, 40)}${rng.chars(1, 'ABCD')}` : line;
}

function postcode(rng: Rng, info: CityInfo): string {
  switch (info.country) {
    case 'US':
      return `${info.zipPrefix}${String(rng.int(1, 99)).padStart(2, '0')}`;
    case 'GB':
      return `${info.zipPrefix} ${rng.int(1, 9)}${rng.chars(2, 'ABDEFGHJLNPQRSTUWXYZ')}`;
    case 'CA':
      return `${info.zipPrefix} ${rng.int(1, 9)}${rng.chars(1, 'ABCEGHJKLMNPRSTVXY')}${rng.int(1, 9)}`;
    case 'DE':
    case 'FR':
      return `${info.zipPrefix}${String(rng.int(0, 999)).padStart(3, '0')}`;
    default:
      return `${info.zipPrefix}${String(rng.int(0, 99)).padStart(2, '0')}`;
  }
}

/** Phone numbers in fictional/reserved ranges, formatted per country. */
export function telephone(rng: Rng, country: string): string {
  const d = (n: number): string => rng.chars(n, '0123456789');
  switch (country) {
    case 'US':
    case 'CA':
      return rng.chance(0.5) ? `(${rng.int(201, 989)}) 555-01${d(2)}` : `+1 ${rng.int(201, 989)}-555-01${d(2)}`;
    case 'GB':
      return `+44 20 7946 0${d(3)}`;
    case 'DE':
      return rng.chance(0.5) ? `+49 30 ${d(7)}` : `0${rng.int(151, 179)} ${d(7)}`;
    case 'AT':
      return `+43 1 ${d(7)}`;
    case 'FR':
      return `+33 1 ${d(2)} ${d(2)} ${d(2)} ${d(2)}`;
    default:
      return `+32 2 ${d(3)} ${d(2)} ${d(2)}`;
  }
}

/** YYYY-MM-DD within [fromYear, toYear]. */
export function date(rng: Rng, fromYear: number, toYear: number): string {
  const y = rng.int(fromYear, toYear);
  const m = rng.int(1, 12);
  const day = rng.int(1, 28);
  return `${y}-${pad2(m)}-${pad2(day)}`;
}

/** 'YYYY-MM-DD HH:MM:SS' (UTC) for a Unix time in seconds. */
export function sqlTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Lower-case ASCII rendering of a name, as used in e-mail local parts and URL keys. */
export function asciiFold(text: string): string {
  return text
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '');
}

/** URL key fragment: lower-case ASCII words joined by dashes. */
export function slug(text: string): string {
  const key = text
    .split(/[^\p{L}\p{N}]+/u)
    .map(asciiFold)
    .filter((w) => w !== '')
    .join('-');
  return key === '' ? 'item' : key;
}

// --- product copy ---------------------------------------------------------

const PRODUCT_ADJ = [
  'Breathe-Easy',
  'Radiant',
  'Summit',
  'Aero',
  'Cruise',
  'Frankie',
  'Juno',
  'Nadia',
  'Olivia',
  'Proteus',
  'Strike',
  'Zeppelin',
  'Orion',
  'Atlas',
  'Helios',
  'Nova',
  'Vega',
  'Echo',
  'Ridge',
  'Harbor',
] as const;
const PRODUCT_MATERIAL = [
  'Cotton',
  'Merino',
  'Fleece',
  'Nylon',
  'Leather',
  'Canvas',
  'Linen',
  'Bamboo',
  'Recycled',
  'Organic',
] as const;
const PRODUCT_NOUN = [
  'Tee',
  'Tank',
  'Hoodie',
  'Jacket',
  'Pant',
  'Short',
  'Backpack',
  'Duffle Bag',
  'Yoga Mat',
  'Water Bottle',
  'Sneaker',
  'Running Shoe',
  'Watch',
  'Cap',
  'Sweatshirt',
  'Legging',
  'Bra',
  'Sock',
  'Bottle',
  'Headband',
] as const;
export const COLORS = [
  ['Black', 49],
  ['Blue', 50],
  ['Gray', 52],
  ['Green', 53],
  ['Orange', 56],
  ['Purple', 57],
  ['Red', 58],
  ['White', 59],
  ['Yellow', 60],
  ['Brown', 51],
] as const;
export const SIZES = [
  ['XS', 167],
  ['S', 168],
  ['M', 169],
  ['L', 170],
  ['XL', 171],
] as const;

const WORDS = (
  'the a of and to in for with is on that this your from by as it at be are you performance comfort ' +
  'fabric design lightweight breathable durable moisture wicking stretch fit training running yoga ' +
  'outdoor everyday style classic modern soft premium quality support cushioning grip seams reinforced ' +
  'pocket zipper adjustable strap waistband hood sleeve collar hem machine wash cold tumble dry low ' +
  'imported recycled polyester spandex blend ergonomic padded water resistant ventilation mesh panels ' +
  'keeps cool dry warm while workout gym trail city commute weekend travel layering versatile ' +
  'lasting color fade resistant tag free label flatlock construction chafe reduce odor control ' +
  'antimicrobial treatment reflective details visibility low light conditions secure storage ' +
  'essentials keys phone cards easy access interior organizer laptop sleeve fits most inch devices'
).split(' ');

/** A catalog product name such as "Summit Merino Hoodie". */
export function productName(rng: Rng): string {
  return `${rng.pick(PRODUCT_ADJ)} ${rng.pick(PRODUCT_MATERIAL)} ${rng.pick(PRODUCT_NOUN)}`;
}

/** Plain-text sentence of roughly `words` words, capitalised, ending with a period. */
export function sentence(rng: Rng, words: number): string {
  let out = '';
  for (let i = 0; i < words; i++) {
    const w = WORDS[rng.u32() % WORDS.length] ?? 'the';
    out += i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : ` ${w}`;
  }
  return `${out}.`;
}

/** HTML product description of approximately `bytes` bytes (Page Builder-like markup). */
export function htmlDescription(rng: Rng, bytes: number): string {
  const parts: string[] = ['<div data-content-type="row" data-appearance="contained" data-element="main">'];
  let size = parts[0]?.length ?? 0;
  while (size < bytes) {
    const block = rng.chance(0.25)
      ? `<ul>${Array.from({ length: rng.int(3, 6) }, () => `<li>${sentence(rng, rng.int(4, 10))}</li>`).join('')}</ul>`
      : `<p>${Array.from({ length: rng.int(2, 6) }, () => sentence(rng, rng.int(8, 20))).join(' ')}</p>`;
    parts.push(block);
    size += block.length;
  }
  parts.push('</div>');
  return parts.join('\n');
}
