/**
 * Reference data every other generator relies on: websites, store groups,
 * store views, EAV entity types and attributes, report event types and
 * core_config_data (base URLs per scope plus SMTP, payment, analytics and
 * search settings that staging sync is expected to rewrite or disable).
 */
import type { Locale } from './fake.js';
import { Rng } from './prng.js';
import { BatchGroup, type SqlSink, type SqlValue } from './sql.js';

export interface StoreInfo {
  readonly id: number;
  readonly code: string;
  readonly websiteId: number;
  readonly groupId: number;
  readonly name: string;
  readonly locale: Locale;
  readonly currency: 'USD' | 'EUR';
  /** Share of orders/customers placed in this store view. */
  readonly weight: number;
}

/** Customer-facing store views (the admin store 0 is not listed). */
export const STORES: readonly StoreInfo[] = [
  { id: 1, code: 'default', websiteId: 1, groupId: 1, name: 'Default Store View', locale: 'en_US', currency: 'USD', weight: 0.6 },
  { id: 2, code: 'de', websiteId: 2, groupId: 2, name: 'Deutsch', locale: 'de_DE', currency: 'EUR', weight: 0.25 },
  { id: 3, code: 'fr', websiteId: 2, groupId: 2, name: 'Français', locale: 'fr_FR', currency: 'EUR', weight: 0.15 },
];

export const ENTITY_TYPE = { customer: 1, customerAddress: 2, category: 3, product: 4 } as const;

/** attribute_id values used by the EAV value tables. */
export const ATTR = {
  product: {
    name: 73,
    sku: 74,
    description: 75,
    shortDescription: 76,
    price: 77,
    specialPrice: 78,
    cost: 81,
    weight: 82,
    manufacturer: 83,
    metaTitle: 84,
    metaKeyword: 85,
    metaDescription: 86,
    image: 87,
    smallImage: 88,
    thumbnail: 89,
    color: 93,
    status: 97,
    visibility: 99,
    urlKey: 121,
    taxClassId: 134,
    size: 144,
  },
  customer: {
    loyaltyNumber: 160,
    preferredLanguage: 161,
    referralCode: 162,
    loyaltyTier: 163,
    marketingConsent: 164,
    loyaltySince: 165,
    lastPurchaseAt: 166,
  },
} as const;

export const REPORT_EVENT_TYPES = [
  [1, 'catalog_product_view', 0],
  [2, 'sendfriend_product', 0],
  [3, 'catalog_product_compare_add_product', 0],
  [4, 'checkout_cart_add_product', 0],
  [5, 'wishlist_add_product', 0],
  [6, 'wishlist_share', 0],
] as const;

export const BASE_DOMAIN = 'shop.example.test';

/** Inserts all reference rows; returns row counts per table. */
export async function writeReferenceData(sink: SqlSink, seed: number, maxBytes: number): Promise<Record<string, number>> {
  const g = new BatchGroup(sink, maxBytes);
  writeStores(g);
  writeEav(g);
  writeReportEventTypes(g);
  writeConfig(g, Rng.derive(seed, 'config'));
  await g.flush();
  return g.counts();
}

function writeStores(g: BatchGroup): void {
  const websites = g.table('store_website', ['website_id', 'code', 'name', 'sort_order', 'default_group_id', 'is_default']);
  const groups = g.table('store_group', ['group_id', 'website_id', 'name', 'root_category_id', 'default_store_id', 'code']);
  const stores = g.table('store', ['store_id', 'code', 'website_id', 'group_id', 'name', 'sort_order', 'is_active']);
  g.add(websites, [0, 'admin', 'Admin', 0, 0, 0]);
  g.add(websites, [1, 'base', 'Main Website', 0, 1, 1]);
  g.add(websites, [2, 'eu', 'EU Website', 10, 2, 0]);
  g.add(groups, [0, 0, 'Default', 0, 0, 'default']);
  g.add(groups, [1, 1, 'Main Website Store', 2, 1, 'main_website_store']);
  g.add(groups, [2, 2, 'EU Store', 2, 2, 'eu_store']);
  g.add(stores, [0, 'admin', 0, 0, 'Admin', 0, 1]);
  for (const s of STORES) g.add(stores, [s.id, s.code, s.websiteId, s.groupId, s.name, s.id, 1]);
}

function writeEav(g: BatchGroup): void {
  const types = g.table('eav_entity_type', [
    'entity_type_id',
    'entity_type_code',
    'entity_model',
    'attribute_model',
    'entity_table',
    'value_table_prefix',
    'entity_id_field',
    'is_data_sharing',
    'default_attribute_set_id',
    'increment_model',
    'increment_per_store',
    'increment_pad_length',
    'increment_pad_char',
    'additional_attribute_table',
    'entity_attribute_collection',
  ]);
  const attrs = g.table('eav_attribute', [
    'attribute_id',
    'entity_type_id',
    'attribute_code',
    'backend_type',
    'frontend_input',
    'frontend_label',
    'source_model',
    'is_required',
    'is_user_defined',
    'is_unique',
  ]);
  const entityTypes: readonly SqlValue[][] = [
    [
      1,
      'customer',
      'Magento\\Customer\\Model\\ResourceModel\\Customer',
      'Magento\\Customer\\Model\\Attribute',
      'customer_entity',
      null,
      null,
      0,
      1,
      'Magento\\Eav\\Model\\Entity\\Increment\\NumericValue',
      0,
      8,
      '0',
      'customer_eav_attribute',
      'Magento\\Customer\\Model\\ResourceModel\\Attribute\\Collection',
    ],
    [
      2,
      'customer_address',
      'Magento\\Customer\\Model\\ResourceModel\\Address',
      'Magento\\Customer\\Model\\Attribute',
      'customer_address_entity',
      null,
      null,
      0,
      2,
      null,
      0,
      8,
      '0',
      'customer_eav_attribute',
      'Magento\\Customer\\Model\\ResourceModel\\Address\\Attribute\\Collection',
    ],
    [
      3,
      'catalog_category',
      'Magento\\Catalog\\Model\\ResourceModel\\Category',
      'Magento\\Catalog\\Model\\ResourceModel\\Eav\\Attribute',
      'catalog_category_entity',
      null,
      null,
      1,
      3,
      null,
      0,
      8,
      '0',
      'catalog_eav_attribute',
      'Magento\\Catalog\\Model\\ResourceModel\\Category\\Attribute\\Collection',
    ],
    [
      4,
      'catalog_product',
      'Magento\\Catalog\\Model\\ResourceModel\\Product',
      'Magento\\Catalog\\Model\\ResourceModel\\Eav\\Attribute',
      'catalog_product_entity',
      null,
      null,
      1,
      4,
      null,
      0,
      8,
      '0',
      'catalog_eav_attribute',
      'Magento\\Catalog\\Model\\ResourceModel\\Product\\Attribute\\Collection',
    ],
    [
      5,
      'order',
      'Magento\\Sales\\Model\\ResourceModel\\Order',
      null,
      'sales_order',
      null,
      null,
      1,
      0,
      'Magento\\Eav\\Model\\Entity\\Increment\\NumericValue',
      1,
      8,
      '0',
      null,
      null,
    ],
  ];
  for (const row of entityTypes) g.add(types, row);

  const customerStatic: readonly [number, string, string, string][] = [
    [1, 'website_id', 'select', 'Associate to Website'],
    [3, 'created_in', 'text', 'Account Created in'],
    [4, 'prefix', 'text', 'Name Prefix'],
    [5, 'firstname', 'text', 'First Name'],
    [6, 'middlename', 'text', 'Middle Name/Initial'],
    [7, 'lastname', 'text', 'Last Name'],
    [9, 'email', 'text', 'Email'],
    [10, 'group_id', 'select', 'Group'],
    [11, 'dob', 'date', 'Date of Birth'],
    [12, 'password_hash', 'hidden', ''],
    [15, 'taxvat', 'text', 'Tax/VAT Number'],
    [18, 'gender', 'select', 'Gender'],
  ];
  for (const [id, code, input, label] of customerStatic) {
    g.add(attrs, [id, ENTITY_TYPE.customer, code, 'static', input, label, null, code === 'email' ? 1 : 0, 0, 0]);
  }
  const c = ATTR.customer;
  const customerCustom: readonly [number, string, string, string, string][] = [
    [c.loyaltyNumber, 'loyalty_number', 'varchar', 'text', 'Loyalty Card Number'],
    [c.preferredLanguage, 'preferred_language', 'varchar', 'select', 'Preferred Language'],
    [c.referralCode, 'referral_code', 'varchar', 'text', 'Referral Code'],
    [c.loyaltyTier, 'loyalty_tier', 'int', 'select', 'Loyalty Tier'],
    [c.marketingConsent, 'marketing_consent', 'int', 'boolean', 'Marketing Consent'],
    [c.loyaltySince, 'loyalty_since', 'datetime', 'date', 'Member Since'],
    [c.lastPurchaseAt, 'last_purchase_at', 'datetime', 'date', 'Last Purchase'],
  ];
  for (const [id, code, type, input, label] of customerCustom) {
    g.add(attrs, [id, ENTITY_TYPE.customer, code, type, input, label, null, 0, 1, code === 'loyalty_number' ? 1 : 0]);
  }
  g.add(attrs, [25, ENTITY_TYPE.customerAddress, 'city', 'static', 'text', 'City', null, 1, 0, 0]);
  g.add(attrs, [
    26,
    ENTITY_TYPE.customerAddress,
    'country_id',
    'static',
    'select',
    'Country',
    'Magento\\Customer\\Model\\ResourceModel\\Address\\Attribute\\Source\\Country',
    1,
    0,
    0,
  ]);
  g.add(attrs, [34, ENTITY_TYPE.customerAddress, 'telephone', 'static', 'text', 'Phone Number', null, 1, 0, 0]);

  const p = ATTR.product;
  const productAttrs: readonly [number, string, string, string, string, string | null][] = [
    [p.name, 'name', 'varchar', 'text', 'Product Name', null],
    [p.sku, 'sku', 'static', 'text', 'SKU', null],
    [p.description, 'description', 'text', 'textarea', 'Description', null],
    [p.shortDescription, 'short_description', 'text', 'textarea', 'Short Description', null],
    [p.price, 'price', 'decimal', 'price', 'Price', null],
    [p.specialPrice, 'special_price', 'decimal', 'price', 'Special Price', null],
    [p.cost, 'cost', 'decimal', 'price', 'Cost', null],
    [p.weight, 'weight', 'decimal', 'weight', 'Weight', null],
    [p.manufacturer, 'manufacturer', 'int', 'select', 'Manufacturer', null],
    [p.metaTitle, 'meta_title', 'varchar', 'text', 'Meta Title', null],
    [p.metaKeyword, 'meta_keyword', 'text', 'textarea', 'Meta Keywords', null],
    [p.metaDescription, 'meta_description', 'varchar', 'textarea', 'Meta Description', null],
    [p.image, 'image', 'varchar', 'media_image', 'Base', null],
    [p.smallImage, 'small_image', 'varchar', 'media_image', 'Small', null],
    [p.thumbnail, 'thumbnail', 'varchar', 'media_image', 'Thumbnail', null],
    [p.color, 'color', 'int', 'select', 'Color', null],
    [p.status, 'status', 'int', 'select', 'Enable Product', 'Magento\\Catalog\\Model\\Product\\Attribute\\Source\\Status'],
    [p.visibility, 'visibility', 'int', 'select', 'Visibility', 'Magento\\Catalog\\Model\\Product\\Visibility'],
    [p.urlKey, 'url_key', 'varchar', 'text', 'URL Key', null],
    [p.taxClassId, 'tax_class_id', 'int', 'select', 'Tax Class', 'Magento\\Tax\\Model\\TaxClass\\Source\\Product'],
    [p.size, 'size', 'int', 'select', 'Size', 'Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Table'],
  ];
  for (const [id, code, type, input, label, source] of productAttrs) {
    const required = code === 'name' || code === 'sku' || code === 'price' ? 1 : 0;
    g.add(attrs, [
      id,
      ENTITY_TYPE.product,
      code,
      type,
      input,
      label,
      source,
      required,
      code === 'size' ? 1 : 0,
      code === 'sku' ? 1 : 0,
    ]);
  }
}

function writeReportEventTypes(g: BatchGroup): void {
  const t = g.table('report_event_types', ['event_type_id', 'event_name', 'customer_login']);
  for (const row of REPORT_EVENT_TYPES) g.add(t, [...row]);
}

/** A value in Magento's encrypted config format (key version 0, cipher 3). */
function encrypted(rng: Rng): string {
  const bytes = Buffer.alloc(48);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.u32() & 0xff;
  return `0:3:${bytes.toString('base64')}`;
}

function writeConfig(g: BatchGroup, rng: Rng): void {
  const t = g.table('core_config_data', ['config_id', 'scope', 'scope_id', 'path', 'value', 'updated_at']);
  let id = 0;
  const set = (scope: 'default' | 'websites' | 'stores', scopeId: number, path: string, value: string | null): void => {
    id++;
    g.add(t, [id, scope, scopeId, path, value, '2024-11-05 09:12:44']);
  };
  const d = BASE_DOMAIN;
  const def = (path: string, value: string | null): void => set('default', 0, path, value);

  def('web/unsecure/base_url', `http://www.${d}/`);
  def('web/secure/base_url', `https://www.${d}/`);
  def('web/unsecure/base_link_url', `http://www.${d}/`);
  def('web/secure/base_link_url', `https://www.${d}/`);
  def('web/unsecure/base_media_url', `http://media.${d}/media/`);
  def('web/secure/base_media_url', `https://media.${d}/media/`);
  def('web/unsecure/base_static_url', `http://static.${d}/static/`);
  def('web/secure/base_static_url', `https://static.${d}/static/`);
  def('web/secure/use_in_frontend', '1');
  def('web/secure/use_in_adminhtml', '1');
  def('web/secure/enable_hsts', '1');
  def('web/seo/use_rewrites', '1');
  def('web/url/redirect_to_base', '1');
  def('web/cookie/cookie_domain', `.${d}`);
  def('web/cookie/cookie_lifetime', '86400');
  def('web/default/front', 'cms');
  def('general/locale/code', 'en_US');
  def('general/locale/timezone', 'America/New_York');
  def('general/country/default', 'US');
  def('general/country/allow', 'AT,BE,CA,DE,FR,GB,NL,US');
  def('general/store_information/name', 'Lifeboat Outfitters');
  def('general/store_information/phone', '+1 212-555-0142');
  def('general/store_information/street_line1', '350 Fifth Avenue');
  def('general/store_information/city', 'New York');
  def('currency/options/base', 'USD');
  def('currency/options/default', 'USD');
  def('currency/options/allow', 'USD,EUR');
  def('trans_email/ident_general/email', `hello@${d}`);
  def('trans_email/ident_sales/email', `sales@${d}`);
  def('trans_email/ident_support/email', `support@${d}`);
  def('system/smtp/disable', '0');
  def('system/smtp/transport', 'smtp');
  def('system/smtp/host', `smtp.mailgun.example`);
  def('system/smtp/port', '587');
  def('system/smtp/auth', 'login');
  def('system/smtp/ssl', 'tls');
  def('system/smtp/username', `postmaster@mg.${d}`);
  def('system/smtp/password', encrypted(rng));
  def('sales_email/general/async_sending', '1');
  def('payment/checkmo/active', '1');
  def('payment/banktransfer/active', '1');
  def('payment/banktransfer/instructions', 'IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX');
  def('payment/braintree/active', '1');
  def('payment/braintree/environment', 'production');
  def('payment/braintree/merchant_id', rng.chars(16, 'abcdefghijklmnopqrstuvwxyz0123456789'));
  def('payment/braintree/public_key', encrypted(rng));
  def('payment/braintree/private_key', encrypted(rng));
  def('payment/paypal_express/active', '1');
  def('paypal/wpp/api_username', encrypted(rng));
  def('paypal/wpp/api_password', encrypted(rng));
  def('paypal/wpp/api_signature', encrypted(rng));
  def('paypal/wpp/sandbox_flag', '0');
  def('google/analytics/active', '1');
  def('google/analytics/account', `G-${rng.chars(10, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}`);
  def('google/adwords/active', '1');
  def('google/adwords/conversion_id', String(rng.int(100000000, 999999999)));
  def('catalog/search/engine', 'opensearch');
  def('catalog/search/opensearch_server_hostname', 'opensearch.prod.internal');
  def('catalog/search/opensearch_server_port', '9200');
  def('catalog/search/opensearch_index_prefix', 'magento2_prod');
  def('catalog/seo/product_url_suffix', '.html');
  def('catalog/seo/category_url_suffix', '.html');
  def('dev/js/merge_files', '0');
  def('dev/js/minify_files', '1');
  def('dev/css/minify_files', '1');
  def('dev/static/sign', '1');
  def('admin/security/session_lifetime', '3600');
  def('admin/security/use_form_key', '1');
  def('admin/url/use_custom', '0');

  set('websites', 2, 'web/unsecure/base_url', `http://eu.${d}/`);
  set('websites', 2, 'web/secure/base_url', `https://eu.${d}/`);
  set('websites', 2, 'web/unsecure/base_link_url', `http://eu.${d}/`);
  set('websites', 2, 'web/secure/base_link_url', `https://eu.${d}/`);
  set('websites', 2, 'web/secure/base_media_url', `https://media.${d}/media/`);
  set('websites', 2, 'web/cookie/cookie_domain', `eu.${d}`);
  set('websites', 2, 'general/country/default', 'DE');
  set('websites', 2, 'general/locale/timezone', 'Europe/Berlin');
  set('websites', 2, 'currency/options/base', 'EUR');
  set('websites', 2, 'currency/options/default', 'EUR');
  set('websites', 2, 'currency/options/allow', 'EUR');
  set('websites', 2, 'payment/checkmo/active', '0');
  set('websites', 2, 'payment/braintree/merchant_id', rng.chars(16, 'abcdefghijklmnopqrstuvwxyz0123456789'));
  set('websites', 2, 'google/analytics/account', `G-${rng.chars(10, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}`);

  set('stores', 2, 'general/locale/code', 'de_DE');
  set('stores', 2, 'web/unsecure/base_link_url', `http://eu.${d}/de/`);
  set('stores', 2, 'web/secure/base_link_url', `https://eu.${d}/de/`);
  set('stores', 3, 'general/locale/code', 'fr_FR');
  set('stores', 3, 'web/unsecure/base_url', `http://eu.${d}/fr/`);
  set('stores', 3, 'web/secure/base_url', `https://eu.${d}/fr/`);
  set('stores', 3, 'web/unsecure/base_link_url', `http://eu.${d}/fr/`);
  set('stores', 3, 'web/secure/base_link_url', `https://eu.${d}/fr/`);
  set('stores', 3, 'web/secure/base_media_url', `https://media-fr.${d}/media/`);
  set('stores', 3, 'trans_email/ident_sales/email', `ventes@${d}`);
}
