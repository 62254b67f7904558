/**
 * Customer rows: customer_entity, customer_address_entity and the
 * customer_entity_{varchar,int,datetime} EAV values of custom attributes.
 */

import { ATTR, STORES, type StoreInfo } from './db-reference.js';
import { type Address, address, email, type Person, person, sqlTime } from './fake.js';
import { Rng } from './prng.js';
import { BatchGroup, type SqlSink, type TableBatch } from './sql.js';

export interface CustomerInfo {
  readonly id: number;
  readonly store: StoreInfo;
  readonly email: string;
  readonly person: Person;
  readonly groupId: number;
  readonly addresses: readonly { readonly id: number; readonly address: Address }[];
}

export interface CustomersResult {
  counts: Record<string, number>;
  customers: CustomerInfo[];
}

const T0 = Date.UTC(2019, 0, 1) / 1000;
const T1 = Date.UTC(2025, 5, 30) / 1000;

interface CustomerTables {
  entity: TableBatch;
  address: TableBatch;
  varchar: TableBatch;
  int: TableBatch;
  datetime: TableBatch;
}

const EAV_COLUMNS = ['value_id', 'attribute_id', 'entity_id', 'value'] as const;

function declareTables(g: BatchGroup): CustomerTables {
  return {
    entity: g.table('customer_entity', [
      'entity_id',
      'website_id',
      'email',
      'group_id',
      'store_id',
      'created_at',
      'updated_at',
      'is_active',
      'created_in',
      'prefix',
      'firstname',
      'middlename',
      'lastname',
      'dob',
      'password_hash',
      'rp_token',
      'rp_token_created_at',
      'default_billing',
      'default_shipping',
      'taxvat',
      'gender',
      'failures_num',
    ]),
    address: g.table('customer_address_entity', [
      'entity_id',
      'parent_id',
      'created_at',
      'updated_at',
      'is_active',
      'city',
      'company',
      'country_id',
      'firstname',
      'lastname',
      'middlename',
      'postcode',
      'prefix',
      'region',
      'region_id',
      'street',
      'telephone',
      'vat_id',
    ]),
    varchar: g.table('customer_entity_varchar', EAV_COLUMNS),
    int: g.table('customer_entity_int', EAV_COLUMNS),
    datetime: g.table('customer_entity_datetime', EAV_COLUMNS),
  };
}

/** Writes `count` customers with addresses and custom attribute values. */
export async function writeCustomers(sink: SqlSink, seed: number, count: number, maxBytes: number): Promise<CustomersResult> {
  const g = new BatchGroup(sink, maxBytes);
  const w = new CustomerWriter(g, declareTables(g), Rng.derive(seed, 'customers'));
  const customers: CustomerInfo[] = [];
  for (let id = 1; id <= count; id++) {
    customers.push(w.customer(id, T0 + ((T1 - T0) * id) / (count + 1)));
    await g.flushIfFull();
  }
  await g.flush();
  return { counts: g.counts(), customers };
}

/** Magento 2.4 password hash: sha256 hex, salt, Argon2id version marker. */
function passwordHash(rng: Rng): string {
  return `${rng.hex(64)}:${rng.chars(32, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}:3_32_2_67108864`;
}

function pickStore(rng: Rng): StoreInfo {
  return rng.weighted(STORES.map((s) => [s, s.weight] as const));
}

class CustomerWriter {
  private nextAddressId = 1;
  private valueIds = { varchar: 0, int: 0, datetime: 0 };

  constructor(
    private readonly g: BatchGroup,
    private readonly t: CustomerTables,
    private readonly rng: Rng,
  ) {}

  customer(id: number, created: number): CustomerInfo {
    const rng = this.rng;
    const store = pickStore(rng);
    const who = person(rng);
    const mail = email(rng, who, id);
    const groupId = rng.weighted([
      [1, 0.85],
      [2, 0.1],
      [3, 0.05],
    ] as const);
    const addresses = this.addresses(id, who, store, created);
    const updated = Math.min(created + rng.int(0, 600) * 86400, T1);
    const billing = addresses[0]?.id ?? null;
    const shipping = addresses[addresses.length > 1 && rng.chance(0.3) ? 1 : 0]?.id ?? null;
    const resetToken = rng.chance(0.05);
    this.g.add(this.t.entity, [
      id,
      store.websiteId,
      mail,
      groupId,
      store.id,
      sqlTime(created),
      sqlTime(updated),
      rng.chance(0.98) ? 1 : 0,
      store.name,
      who.prefix,
      who.firstname,
      who.middlename,
      who.lastname,
      who.dob,
      passwordHash(rng),
      resetToken ? rng.chars(32, 'abcdefghijklmnopqrstuvwxyz0123456789') : null,
      resetToken ? sqlTime(updated) : null,
      billing,
      shipping,
      groupId === 3 ? `DE${rng.chars(9, '0123456789')}` : null,
      who.gender,
      rng.chance(0.03) ? rng.int(1, 5) : 0,
    ]);
    this.attributes(id, store, created);
    return { id, store, email: mail, person: who, groupId, addresses };
  }

  private addresses(customerId: number, who: Person, store: StoreInfo, created: number): { id: number; address: Address }[] {
    const rng = this.rng;
    const n = rng.weighted([
      [0, 0.1],
      [1, 0.6],
      [2, 0.25],
      [3, 0.05],
    ] as const);
    const out: { id: number; address: Address }[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.nextAddressId++;
      const a = address(rng, store.locale);
      const when = sqlTime(created + i * 86400 * rng.int(1, 200));
      this.g.add(this.t.address, [
        id,
        customerId,
        when,
        when,
        1,
        a.city,
        a.company,
        a.countryId,
        who.firstname,
        who.lastname,
        who.middlename,
        a.postcode,
        who.prefix,
        a.region,
        a.regionId,
        a.street,
        a.telephone,
        a.company !== null && a.countryId !== 'US' ? `${a.countryId}${rng.chars(9, '0123456789')}` : null,
      ]);
      out.push({ id, address: a });
    }
    return out;
  }

  private eav(table: 'varchar' | 'int' | 'datetime', attr: number, entity: number, value: string | number): void {
    this.g.add(this.t[table], [++this.valueIds[table], attr, entity, value]);
  }

  private attributes(id: number, store: StoreInfo, created: number): void {
    const rng = this.rng;
    const c = ATTR.customer;
    const member = rng.chance(0.4);
    if (member) {
      this.eav('varchar', c.loyaltyNumber, id, `LB-${rng.chars(4, '0123456789')}-${String(id).padStart(7, '0')}`);
      this.eav(
        'int',
        c.loyaltyTier,
        id,
        rng.weighted([
          [1, 0.6],
          [2, 0.3],
          [3, 0.1],
        ] as const),
      );
      this.eav('datetime', c.loyaltySince, id, sqlTime(created + rng.int(0, 90) * 86400));
    }
    if (rng.chance(0.5)) this.eav('varchar', c.preferredLanguage, id, store.locale);
    if (rng.chance(0.2)) this.eav('varchar', c.referralCode, id, rng.chars(8, 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'));
    if (rng.chance(0.7)) this.eav('int', c.marketingConsent, id, rng.chance(0.55) ? 1 : 0);
    if (rng.chance(0.6)) this.eav('datetime', c.lastPurchaseAt, id, sqlTime(Math.min(created + rng.int(1, 900) * 86400, T1)));
  }
}
