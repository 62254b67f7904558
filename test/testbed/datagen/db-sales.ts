/**
 * Checkout and order rows: quote/quote_item (one converted quote per order
 * plus abandoned carts), sales_order with billing/shipping addresses, items
 * (configurable parent + simple child lines, JSON product_options) and
 * payments with gateway-style additional_information.
 */

import type { ProductInfo } from './db-catalog.js';
import type { CustomerInfo } from './db-customers.js';
import { BASE_DOMAIN, STORES, type StoreInfo } from './db-reference.js';
import { type Address, address, email, type Person, person, sentence, sqlTime } from './fake.js';
import { Rng } from './prng.js';
import { BatchGroup, dec4, type SqlSink, type SqlValue, type TableBatch } from './sql.js';

export interface SalesPlan {
  orders: number;
  abandonedQuotes: number;
}

const T0 = Date.UTC(2023, 0, 1) / 1000;
const T1 = Date.UTC(2025, 5, 30) / 1000;

interface SalesTables {
  quote: TableBatch;
  quoteItem: TableBatch;
  order: TableBatch;
  address: TableBatch;
  item: TableBatch;
  payment: TableBatch;
}

function declareTables(g: BatchGroup): SalesTables {
  return {
    quote: g.table('quote', [
      'entity_id',
      'store_id',
      'created_at',
      'updated_at',
      'converted_at',
      'is_active',
      'is_virtual',
      'items_count',
      'items_qty',
      'orig_order_id',
      'store_to_base_rate',
      'store_to_quote_rate',
      'base_currency_code',
      'store_currency_code',
      'quote_currency_code',
      'grand_total',
      'base_grand_total',
      'checkout_method',
      'customer_id',
      'customer_tax_class_id',
      'customer_group_id',
      'customer_email',
      'customer_prefix',
      'customer_firstname',
      'customer_lastname',
      'customer_dob',
      'customer_note_notify',
      'customer_is_guest',
      'remote_ip',
      'applied_rule_ids',
      'reserved_order_id',
      'coupon_code',
      'global_currency_code',
      'base_to_global_rate',
      'base_to_quote_rate',
      'customer_gender',
      'subtotal',
      'base_subtotal',
      'subtotal_with_discount',
      'base_subtotal_with_discount',
      'is_changed',
      'trigger_recollect',
      'is_persistent',
    ]),
    quoteItem: g.table('quote_item', [
      'item_id',
      'quote_id',
      'created_at',
      'updated_at',
      'product_id',
      'store_id',
      'parent_item_id',
      'is_virtual',
      'sku',
      'name',
      'applied_rule_ids',
      'is_qty_decimal',
      'no_discount',
      'weight',
      'qty',
      'price',
      'base_price',
      'discount_percent',
      'discount_amount',
      'base_discount_amount',
      'tax_percent',
      'tax_amount',
      'base_tax_amount',
      'row_total',
      'base_row_total',
      'row_total_with_discount',
      'row_weight',
      'product_type',
      'base_cost',
      'price_incl_tax',
      'base_price_incl_tax',
      'row_total_incl_tax',
      'base_row_total_incl_tax',
      'free_shipping',
    ]),
    order: g.table('sales_order', [
      'entity_id',
      'state',
      'status',
      'coupon_code',
      'protect_code',
      'shipping_description',
      'is_virtual',
      'store_id',
      'customer_id',
      'base_discount_amount',
      'base_grand_total',
      'base_shipping_amount',
      'base_shipping_tax_amount',
      'base_subtotal',
      'base_tax_amount',
      'base_to_global_rate',
      'base_to_order_rate',
      'base_total_invoiced',
      'base_total_paid',
      'base_total_refunded',
      'discount_amount',
      'grand_total',
      'shipping_amount',
      'shipping_tax_amount',
      'store_to_base_rate',
      'store_to_order_rate',
      'subtotal',
      'tax_amount',
      'total_invoiced',
      'total_paid',
      'total_qty_ordered',
      'total_refunded',
      'customer_is_guest',
      'customer_note_notify',
      'billing_address_id',
      'customer_group_id',
      'email_sent',
      'send_email',
      'quote_id',
      'shipping_address_id',
      'base_subtotal_incl_tax',
      'subtotal_incl_tax',
      'weight',
      'customer_dob',
      'increment_id',
      'applied_rule_ids',
      'base_currency_code',
      'customer_email',
      'customer_firstname',
      'customer_lastname',
      'customer_middlename',
      'customer_prefix',
      'discount_description',
      'global_currency_code',
      'order_currency_code',
      'remote_ip',
      'shipping_method',
      'store_currency_code',
      'store_name',
      'x_forwarded_for',
      'customer_note',
      'created_at',
      'updated_at',
      'total_item_count',
      'customer_gender',
      'shipping_incl_tax',
      'base_shipping_incl_tax',
    ]),
    address: g.table('sales_order_address', [
      'entity_id',
      'parent_id',
      'customer_address_id',
      'quote_address_id',
      'region_id',
      'customer_id',
      'region',
      'postcode',
      'lastname',
      'street',
      'city',
      'email',
      'telephone',
      'country_id',
      'firstname',
      'address_type',
      'prefix',
      'middlename',
      'company',
      'vat_id',
    ]),
    item: g.table('sales_order_item', [
      'item_id',
      'order_id',
      'parent_item_id',
      'quote_item_id',
      'store_id',
      'created_at',
      'updated_at',
      'product_id',
      'product_type',
      'product_options',
      'weight',
      'is_virtual',
      'sku',
      'name',
      'applied_rule_ids',
      'is_qty_decimal',
      'no_discount',
      'qty_canceled',
      'qty_invoiced',
      'qty_ordered',
      'qty_refunded',
      'qty_shipped',
      'base_cost',
      'price',
      'base_price',
      'original_price',
      'base_original_price',
      'tax_percent',
      'tax_amount',
      'base_tax_amount',
      'tax_invoiced',
      'base_tax_invoiced',
      'discount_percent',
      'discount_amount',
      'base_discount_amount',
      'amount_refunded',
      'base_amount_refunded',
      'row_total',
      'base_row_total',
      'row_invoiced',
      'base_row_invoiced',
      'row_weight',
      'price_incl_tax',
      'base_price_incl_tax',
      'row_total_incl_tax',
      'base_row_total_incl_tax',
      'free_shipping',
    ]),
    payment: g.table('sales_order_payment', [
      'entity_id',
      'parent_id',
      'base_shipping_captured',
      'shipping_captured',
      'amount_refunded',
      'base_amount_paid',
      'amount_canceled',
      'base_amount_authorized',
      'base_shipping_amount',
      'shipping_amount',
      'amount_paid',
      'amount_authorized',
      'base_amount_ordered',
      'base_amount_refunded',
      'amount_ordered',
      'method',
      'cc_exp_month',
      'cc_last_4',
      'cc_type',
      'cc_exp_year',
      'cc_trans_id',
      'last_trans_id',
      'po_number',
      'additional_information',
    ]),
  };
}

/** Writes orders (each with its converted quote) interleaved with abandoned quotes. */
export async function writeSales(
  sink: SqlSink,
  seed: number,
  plan: SalesPlan,
  products: readonly ProductInfo[],
  customers: readonly CustomerInfo[],
  maxBytes: number,
): Promise<Record<string, number>> {
  if (products.length === 0) throw new Error('writeSales: no products');
  const g = new BatchGroup(sink, maxBytes);
  const w = new SalesWriter(g, declareTables(g), Rng.derive(seed, 'sales'), products, customers);
  const ratio = plan.abandonedQuotes / Math.max(plan.orders, 1);
  for (let i = 0; i < plan.orders; i++) {
    const when = T0 + ((T1 - T0) * (i + 0.5)) / plan.orders;
    w.order(when);
    const extra = Math.floor((i + 1) * ratio) - Math.floor(i * ratio);
    for (let k = 0; k < extra; k++) w.abandonedQuote(when);
    await g.flushIfFull();
  }
  await g.flush();
  return g.counts();
}

interface Line {
  readonly product: ProductInfo;
  readonly child: ProductInfo | null;
  readonly qty: number;
  readonly price: number;
  readonly rowTotal: number;
  readonly discount: number;
  readonly tax: number;
}

interface Buyer {
  readonly customer: CustomerInfo | null;
  readonly store: StoreInfo;
  readonly person: Person;
  readonly email: string;
  readonly billing: { readonly id: number | null; readonly address: Address };
  readonly shipping: { readonly id: number | null; readonly address: Address };
}

interface Totals {
  subtotal: number;
  discount: number;
  tax: number;
  shipping: number;
  grand: number;
  qty: number;
  weight: number;
  virtual: boolean;
}

const FREE_SHIPPING_FROM = 150;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const money = (x: number): string => dec4(r2(x));

/** [[state, status], weight] */
const ORDER_STATES: readonly (readonly [readonly [string, string], number])[] = [
  [['complete', 'complete'], 0.7],
  [['processing', 'processing'], 0.12],
  [['new', 'pending'], 0.05],
  [['canceled', 'canceled'], 0.08],
  [['closed', 'closed'], 0.05],
];
const COUPONS = [
  ['SUMMER15', 0.15, '3'],
  ['WELCOME10', 0.1, '1'],
  ['VIP20', 0.2, '3,5'],
] as const;

class SalesWriter {
  private ids = { quote: 0, quoteItem: 0, order: 0, address: 0, item: 0, payment: 0 };
  private readonly increments = new Map<number, number>();

  constructor(
    private readonly g: BatchGroup,
    private readonly t: SalesTables,
    private readonly rng: Rng,
    private readonly products: readonly ProductInfo[],
    private readonly customers: readonly CustomerInfo[],
  ) {}

  order(when: number): void {
    const rng = this.rng;
    const buyer = this.buyer();
    const coupon = rng.chance(0.15) ? rng.pick(COUPONS) : null;
    const lines = this.lines(buyer.store, coupon?.[1] ?? 0);
    const totals = this.totals(lines, buyer.store);
    const orderId = ++this.ids.order;
    const quoteId = ++this.ids.quote;
    const increment = this.incrementId(buyer.store.id);
    const created = when + rng.int(-1800, 1800);
    const quoteItemIds = this.quote(quoteId, buyer, lines, totals, coupon, created - rng.int(120, 3600), created, increment);
    const [state, status] = rng.weighted(ORDER_STATES);
    const billingId = this.ids.address + 1;
    const shippingId = totals.virtual ? null : billingId + 1;
    this.orderRow(orderId, quoteId, increment, buyer, totals, coupon, state, status, created, billingId, shippingId);
    this.addresses(orderId, buyer, totals.virtual);
    this.items(orderId, buyer.store, lines, quoteItemIds, created, state, coupon?.[2] ?? null);
    this.payment(orderId, buyer, totals, state, created);
  }

  abandonedQuote(when: number): void {
    const rng = this.rng;
    const buyer = this.buyer();
    const lines = this.lines(buyer.store, 0);
    const totals = this.totals(lines, buyer.store);
    const created = when + rng.int(-86400, 86400);
    this.quote(++this.ids.quote, buyer, lines, totals, null, created, null, null);
  }

  private incrementId(storeId: number): string {
    const n = (this.increments.get(storeId) ?? 0) + 1;
    this.increments.set(storeId, n);
    return `${storeId === 1 ? '' : storeId}${String(n).padStart(9, '0')}`;
  }

  private buyer(): Buyer {
    const rng = this.rng;
    const customer = this.customers.length > 0 && rng.chance(0.75) ? rng.pick(this.customers) : null;
    if (customer !== null && customer.addresses.length > 0) {
      const billing = rng.pick(customer.addresses);
      const shipping = rng.chance(0.8) ? billing : rng.pick(customer.addresses);
      return { customer, store: customer.store, person: customer.person, email: customer.email, billing, shipping };
    }
    const store = customer?.store ?? rng.weighted(STORES.map((s) => [s, s.weight] as const));
    const who = customer?.person ?? person(rng);
    const mail = customer?.email ?? email(rng, who, 10_000_000 + this.ids.quote);
    const billing = { id: null, address: address(rng, store.locale) };
    const shipping = rng.chance(0.85) ? billing : { id: null, address: address(rng, store.locale) };
    return { customer, store, person: who, email: mail, billing, shipping };
  }

  /** Popular products are picked more often (quadratic skew towards low ids). */
  private pickProduct(): ProductInfo {
    const i = Math.floor(this.products.length * this.rng.next() ** 2);
    return this.products[i] ?? this.rng.pick(this.products);
  }

  private lines(store: StoreInfo, discountRate: number): Line[] {
    const rng = this.rng;
    const count = rng.weighted([
      [1, 0.45],
      [2, 0.28],
      [3, 0.14],
      [4, 0.08],
      [5, 0.05],
    ] as const);
    const taxRate = taxRateFor(store);
    const out: Line[] = [];
    for (let i = 0; i < count; i++) {
      const product = this.pickProduct();
      const child = product.children.length > 0 ? rng.pick(product.children) : null;
      const qty = rng.weighted([
        [1, 0.8],
        [2, 0.15],
        [3, 0.05],
      ] as const);
      const price = store.currency === 'EUR' ? r2(product.price * 0.95) : product.price;
      const rowTotal = r2(price * qty);
      const discount = r2(rowTotal * discountRate);
      out.push({ product, child, qty, price, rowTotal, discount, tax: r2((rowTotal - discount) * taxRate) });
    }
    return out;
  }

  private totals(lines: readonly Line[], store: StoreInfo): Totals {
    let subtotal = 0;
    let discount = 0;
    let tax = 0;
    let qty = 0;
    let weight = 0;
    for (const l of lines) {
      subtotal += l.rowTotal;
      discount += l.discount;
      tax += l.tax;
      qty += l.qty;
      weight += l.product.weight * l.qty;
    }
    const virtual = lines.every((l) => l.product.type === 'virtual');
    const shipping = virtual || subtotal >= FREE_SHIPPING_FROM ? 0 : store.currency === 'EUR' ? 6.9 : 5 * qty;
    subtotal = r2(subtotal);
    discount = r2(discount);
    tax = r2(tax);
    return {
      subtotal,
      discount,
      tax,
      shipping,
      grand: r2(subtotal - discount + tax + shipping),
      qty,
      weight: r2(weight),
      virtual,
    };
  }

  /** Writes a quote and its items; returns the quote_item id of each line (the parent row for configurables). */
  private quote(
    id: number,
    b: Buyer,
    lines: readonly Line[],
    totals: Totals,
    coupon: (typeof COUPONS)[number] | null,
    created: number,
    converted: number | null,
    reservedOrderId: string | null,
  ): number[] {
    const rng = this.rng;
    const guest = b.customer === null;
    const known = !guest || rng.chance(0.6);
    const cur = b.store.currency;
    const updated = converted ?? created + rng.int(60, 7200);
    const sub = totals.subtotal;
    const rule = coupon?.[2] ?? null;
    this.g.add(this.t.quote, [
      id,
      b.store.id,
      sqlTime(created),
      sqlTime(updated),
      converted === null ? null : sqlTime(converted),
      converted === null ? 1 : 0,
      totals.virtual ? 1 : 0,
      lines.length,
      dec4(totals.qty),
      0,
      dec4(0),
      dec4(0),
      cur,
      cur,
      cur,
      money(totals.grand),
      money(totals.grand),
      guest ? 'guest' : 'customer',
      b.customer?.id ?? null,
      3,
      b.customer?.groupId ?? 0,
      known ? b.email : null,
      b.person.prefix,
      known ? b.person.firstname : null,
      known ? b.person.lastname : null,
      guest ? null : dobTime(b.person),
      1,
      guest ? 1 : 0,
      ip(rng),
      rule,
      reservedOrderId,
      coupon?.[0] ?? null,
      'USD',
      globalRate(b.store),
      dec4(1),
      guest ? null : String(b.person.gender),
      money(sub),
      money(sub),
      money(sub - totals.discount),
      money(sub - totals.discount),
      0,
      0,
      0,
    ]);
    return lines.map((l) => this.quoteItems(id, b.store, l, created, rule));
  }

  private quoteItems(quoteId: number, store: StoreInfo, l: Line, created: number, rule: string | null): number {
    const parentId = ++this.ids.quoteItem;
    const when = sqlTime(created);
    const p = l.product;
    const taxPct = taxRateFor(store) * 100;
    const incl = r2(l.price * (1 + taxPct / 100));
    const row = (id: number, product: ProductInfo, parent: number | null, type: string, full: boolean): SqlValue[] => [
      id,
      quoteId,
      when,
      when,
      product.id,
      store.id,
      parent,
      p.type === 'virtual' ? 1 : 0,
      (l.child ?? p).sku,
      product.name,
      rule,
      0,
      0,
      dec4(p.weight),
      dec4(l.qty),
      money(full ? l.price : 0),
      money(full ? l.price : 0),
      dec4(0),
      money(full ? l.discount : 0),
      money(full ? l.discount : 0),
      dec4(full ? taxPct : 0),
      money(full ? l.tax : 0),
      money(full ? l.tax : 0),
      money(full ? l.rowTotal : 0),
      money(full ? l.rowTotal : 0),
      money(full ? l.rowTotal - l.discount : 0),
      dec4(p.weight * l.qty),
      type,
      null,
      money(full ? incl : 0),
      money(full ? incl : 0),
      money(full ? incl * l.qty : 0),
      money(full ? incl * l.qty : 0),
      0,
    ];
    this.g.add(this.t.quoteItem, row(parentId, p, null, p.type, true));
    if (l.child !== null) this.g.add(this.t.quoteItem, row(++this.ids.quoteItem, l.child, parentId, 'simple', false));
    return parentId;
  }

  private orderRow(
    id: number,
    quoteId: number,
    increment: string,
    b: Buyer,
    t: Totals,
    coupon: (typeof COUPONS)[number] | null,
    state: string,
    status: string,
    created: number,
    billingId: number,
    shippingId: number | null,
  ): void {
    const rng = this.rng;
    const paid = state === 'complete' || state === 'processing' || state === 'closed';
    const refunded = state === 'closed' ? t.grand : 0;
    const cur = b.store.currency;
    const [method, description] = t.virtual ? [null, null] : shippingMethod(b.store, t.shipping);
    const updated = created + (state === 'new' ? 0 : rng.int(3600, 14 * 86400));
    const grand = money(t.grand);
    this.g.add(this.t.order, [
      id,
      state,
      status,
      coupon?.[0] ?? null,
      rng.hex(32),
      description,
      t.virtual ? 1 : 0,
      b.store.id,
      b.customer?.id ?? null,
      money(-t.discount),
      grand,
      money(t.shipping),
      money(0),
      money(t.subtotal),
      money(t.tax),
      globalRate(b.store),
      dec4(1),
      paid ? grand : null,
      paid ? grand : null,
      refunded > 0 ? money(refunded) : null,
      money(-t.discount),
      grand,
      money(t.shipping),
      money(0),
      dec4(0),
      dec4(0),
      money(t.subtotal),
      money(t.tax),
      paid ? grand : null,
      paid ? grand : null,
      dec4(t.qty),
      refunded > 0 ? money(refunded) : null,
      b.customer === null ? 1 : 0,
      1,
      billingId,
      b.customer?.groupId ?? 0,
      1,
      1,
      quoteId,
      shippingId,
      money(t.subtotal + t.tax),
      money(t.subtotal + t.tax),
      t.virtual ? null : dec4(t.weight),
      dobTime(b.person),
      increment,
      coupon?.[2] ?? null,
      cur,
      b.email,
      b.person.firstname,
      b.person.lastname,
      b.person.middlename,
      b.person.prefix,
      coupon === null ? null : `Discount (${coupon[0]})`,
      'USD',
      cur,
      ip(rng),
      method,
      cur,
      storeName(b.store),
      rng.chance(0.3) ? `${ip(rng)}, ${ip(rng)}` : null,
      rng.chance(0.05) ? sentence(rng, rng.int(6, 25)) : null,
      sqlTime(created),
      sqlTime(Math.min(updated, T1)),
      t.qty,
      b.person.gender,
      money(t.shipping),
      money(t.shipping),
    ]);
  }

  private addresses(orderId: number, b: Buyer, virtual: boolean): void {
    const kinds: ['billing' | 'shipping', Buyer['billing']][] = [['billing', b.billing]];
    if (!virtual) kinds.push(['shipping', b.shipping]);
    for (const [type, a] of kinds) {
      const x = a.address;
      const vat = x.company !== null && x.countryId !== 'US' ? `${x.countryId}${this.rng.chars(9, '0123456789')}` : null;
      this.g.add(this.t.address, [
        ++this.ids.address,
        orderId,
        a.id,
        null,
        x.regionId,
        b.customer?.id ?? null,
        x.region,
        x.postcode,
        b.person.lastname,
        x.street,
        x.city,
        b.email,
        x.telephone,
        x.countryId,
        b.person.firstname,
        type,
        b.person.prefix,
        b.person.middlename,
        x.company,
        vat,
      ]);
    }
  }

  private items(
    orderId: number,
    store: StoreInfo,
    lines: readonly Line[],
    quoteItemIds: readonly number[],
    created: number,
    state: string,
    rule: string | null,
  ): void {
    const when = sqlTime(created);
    const taxPct = taxRateFor(store) * 100;
    lines.forEach((l, i) => {
      const p = l.product;
      const qtyDone = state === 'complete' || state === 'closed' ? l.qty : 0;
      const qtyInvoiced = state === 'processing' ? l.qty : qtyDone;
      const canceled = state === 'canceled' ? l.qty : 0;
      const refunded = state === 'closed' ? l.qty : 0;
      const incl = r2(l.price * (1 + taxPct / 100));
      const row = (
        id: number,
        product: ProductInfo,
        parent: number | null,
        type: string,
        full: boolean,
        options: string,
      ): SqlValue[] => {
        const m = (x: number): string => money(full ? x : 0);
        return [
          id,
          orderId,
          parent,
          (quoteItemIds[i] ?? 0) + (full ? 0 : 1),
          store.id,
          when,
          when,
          product.id,
          type,
          options,
          dec4(p.weight),
          p.type === 'virtual' ? 1 : 0,
          (l.child ?? p).sku,
          product.name,
          rule,
          0,
          0,
          dec4(canceled),
          dec4(qtyInvoiced),
          dec4(l.qty),
          dec4(refunded),
          dec4(qtyDone),
          full ? money(l.price * 0.45) : null,
          m(l.price),
          m(l.price),
          m(l.price),
          m(l.price),
          dec4(full ? taxPct : 0),
          m(l.tax),
          m(l.tax),
          m(qtyInvoiced > 0 ? l.tax : 0),
          m(qtyInvoiced > 0 ? l.tax : 0),
          dec4(0),
          m(l.discount),
          m(l.discount),
          m(refunded > 0 ? l.rowTotal : 0),
          m(refunded > 0 ? l.rowTotal : 0),
          m(l.rowTotal),
          m(l.rowTotal),
          m(qtyInvoiced > 0 ? l.rowTotal : 0),
          m(qtyInvoiced > 0 ? l.rowTotal : 0),
          dec4(p.weight * l.qty),
          m(incl),
          m(incl),
          m(incl * l.qty),
          m(incl * l.qty),
          0,
        ];
      };
      const parentId = ++this.ids.item;
      this.g.add(this.t.item, row(parentId, p, null, p.type, true, productOptions(store, l, true)));
      if (l.child !== null) {
        this.g.add(this.t.item, row(++this.ids.item, l.child, parentId, 'simple', false, productOptions(store, l, false)));
      }
    });
  }

  private payment(orderId: number, b: Buyer, t: Totals, state: string, created: number): void {
    const rng = this.rng;
    const method = rng.weighted(b.store.currency === 'EUR' ? PAYMENTS_EU : PAYMENTS_US);
    const paid = state === 'complete' || state === 'processing' || state === 'closed';
    const card = method === 'braintree' || method === 'stripe_payments';
    const ccType = card ? rng.pick(['VI', 'MC', 'AE', 'DI']) : null;
    const last4 = card ? rng.chars(4, '0123456789') : null;
    const txn = method === 'checkmo' || method === 'banktransfer' ? null : rng.chars(8, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const grand = money(t.grand);
    const m = (x: number | null): string | null => (x === null ? null : money(x));
    this.g.add(this.t.payment, [
      ++this.ids.payment,
      orderId,
      m(paid ? t.shipping : null),
      m(paid ? t.shipping : null),
      m(state === 'closed' ? t.grand : null),
      paid ? grand : null,
      m(state === 'canceled' ? t.grand : null),
      card ? grand : null,
      money(t.shipping),
      money(t.shipping),
      paid ? grand : null,
      card ? grand : null,
      grand,
      m(state === 'closed' ? t.grand : null),
      grand,
      method,
      card ? String(rng.int(1, 12)) : null,
      last4,
      ccType,
      card ? String(rng.int(2025, 2031)) : null,
      txn,
      txn,
      method === 'checkmo' && rng.chance(0.1) ? `PO-${rng.int(1000, 99999)}` : null,
      paymentInfo(rng, method, b, ccType, last4, created),
    ]);
  }
}

const PAYMENTS_US = [
  ['braintree', 0.45],
  ['paypal_express', 0.25],
  ['checkmo', 0.15],
  ['stripe_payments', 0.15],
] as const;
const PAYMENTS_EU = [
  ['braintree', 0.35],
  ['paypal_express', 0.3],
  ['banktransfer', 0.2],
  ['stripe_payments', 0.15],
] as const;

function taxRateFor(store: StoreInfo): number {
  return store.id === 1 ? 0.0825 : store.id === 2 ? 0.19 : 0.2;
}

function globalRate(store: StoreInfo): string {
  return dec4(store.currency === 'EUR' ? 1.0842 : 1);
}

function storeName(store: StoreInfo): string {
  return store.websiteId === 1 ? `Main Website\nMain Website Store\n${store.name}` : `EU Website\nEU Store\n${store.name}`;
}

function shippingMethod(store: StoreInfo, amount: number): [string, string] {
  if (amount === 0) return ['freeshipping_freeshipping', 'Free Shipping - Free'];
  return store.currency === 'EUR' ? ['dhl_N', 'DHL - Standard'] : ['flatrate_flatrate', 'Flat Rate - Fixed'];
}

function dobTime(p: Person): string | null {
  return p.dob === null ? null : `${p.dob} 00:00:00`;
}

/** Address in the IETF documentation ranges (never routable). */
function ip(rng: Rng): string {
  return `${rng.pick(['192.0.2', '198.51.100', '203.0.113'])}.${rng.int(1, 254)}`;
}

/** Magento's "uenc" parameter: base64 of the referring URL with '=' replaced by ','. */
function uenc(store: StoreInfo, urlKey: string): string {
  const host = store.websiteId === 1 ? `https://www.${BASE_DOMAIN}/` : `https://eu.${BASE_DOMAIN}/${store.code}/`;
  return Buffer.from(`${host}${urlKey}.html`).toString('base64').replace(/=/g, ',');
}

/** sales_order_item.product_options JSON as Magento 2.4 serializes it. */
function productOptions(store: StoreInfo, l: Line, parentRow: boolean): string {
  const p = l.product;
  const buyRequest: Record<string, unknown> = {
    uenc: uenc(store, p.urlKey),
    product: String(p.id),
    selected_configurable_option: l.child === null ? '' : String(l.child.id),
    related_product: '',
    item: String(p.id),
    qty: String(l.qty),
  };
  if (l.child?.color !== undefined && l.child.size !== undefined) {
    buyRequest.super_attribute = { '93': String(l.child.color[1]), '144': String(l.child.size[1]) };
  }
  const options: Record<string, unknown> = { info_buyRequest: buyRequest };
  if (parentRow && l.child !== null && l.child.color !== undefined && l.child.size !== undefined) {
    options.attributes_info = [
      { label: 'Color', value: l.child.color[0], option_id: 93, option_value: String(l.child.color[1]) },
      { label: 'Size', value: l.child.size[0], option_id: 144, option_value: String(l.child.size[1]) },
    ];
    options.simple_name = l.child.name;
    options.simple_sku = l.child.sku;
    options.product_calculations = 1;
    options.shipment_type = 0;
  }
  return JSON.stringify(options);
}

/** sales_order_payment.additional_information JSON for the given gateway. */
function paymentInfo(rng: Rng, method: string, b: Buyer, ccType: string | null, last4: string | null, created: number): string {
  switch (method) {
    case 'braintree':
      return JSON.stringify({
        cc_type: ccType,
        cc_number: `xxxx-${last4}`,
        method_title: 'Credit Card',
        is_active_payment_token_enabler: false,
        avsPostalCodeResponseCode: 'M',
        avsStreetAddressResponseCode: 'M',
        cvvResponseCode: 'M',
        processorAuthorizationCode: rng.chars(6, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'),
        processorResponseCode: '1000',
        processorResponseText: 'Approved',
        liabilityShifted: true,
        liabilityShiftPossible: true,
        riskDataId: rng.chars(12, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'),
        riskDataDecision: 'Approve',
      });
    case 'paypal_express':
      return JSON.stringify({
        method_title: 'PayPal Express Checkout',
        paypal_payer_id: rng.chars(13, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'),
        paypal_payer_email: b.email,
        paypal_payer_status: 'verified',
        paypal_address_status: 'confirmed',
        paypal_correlation_id: rng.hex(13),
        paypal_express_checkout_token: `EC-${rng.chars(17, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}`,
        paypal_payment_status: 'completed',
        paypal_pending_reason: 'None',
        paypal_protection_eligibility: 'Eligible',
      });
    case 'stripe_payments':
      return JSON.stringify({
        method_title: 'Pay by Card',
        payment_method_id: `pm_${rng.chars(24, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
        customer_stripe_id: `cus_${rng.chars(14, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
        stripe_payment_intent: `pi_${rng.chars(24, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
        card_brand: ccType,
        card_last4: last4,
        created: created,
      });
    case 'banktransfer':
      return JSON.stringify({
        method_title: 'Bank Transfer Payment',
        instructions: 'IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX',
      });
    default:
      return JSON.stringify({ method_title: 'Check / Money order' });
  }
}
