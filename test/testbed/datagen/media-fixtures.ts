/**
 * Fixed-shape Magento files that are not bulk media: app/etc/env.php and
 * config.php (fake credentials), logs, file cache entries and PHP session
 * files. Contents are deterministic for a given seed.
 */
import { BASE_DOMAIN } from './db-reference.js';
import type { Rng } from './prng.js';

const MODULES = [
  'Magento_Store',
  'Magento_Directory',
  'Magento_Theme',
  'Magento_Eav',
  'Magento_Customer',
  'Magento_Catalog',
  'Magento_CatalogInventory',
  'Magento_CatalogRule',
  'Magento_CatalogSearch',
  'Magento_CatalogUrlRewrite',
  'Magento_Checkout',
  'Magento_Cms',
  'Magento_ConfigurableProduct',
  'Magento_Cron',
  'Magento_Email',
  'Magento_Indexer',
  'Magento_OpenSearch',
  'Magento_PageCache',
  'Magento_Payment',
  'Magento_Paypal',
  'Magento_Quote',
  'Magento_Reports',
  'Magento_Sales',
  'Magento_SalesRule',
  'Magento_Search',
  'Magento_Shipping',
  'Magento_Swatches',
  'Magento_Tax',
  'Magento_Ui',
  'Magento_UrlRewrite',
  'Magento_Wishlist',
  'Magento_GoogleAnalytics',
  'Magento_TwoFactorAuth',
  'PayPal_Braintree',
  'StripeIntegration_Payments',
  'Lifeboat_Demo',
];

/** app/etc/env.php with fake database, cache and crypt settings. */
export function envPhp(rng: Rng): string {
  const secret = (n: number): string => rng.chars(n, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
  return `<?php
return [
    'backend' => [
        'frontName' => 'admin_${secret(6).toLowerCase()}'
    ],
    'remote_storage' => [
        'driver' => 'file'
    ],
    'crypt' => [
        'key' => 'base64${Buffer.from(secret(32)).toString('base64')}'
    ],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => 'galera-lb.prod.internal:3306',
                'dbname' => 'magento',
                'username' => 'magento',
                'password' => '${secret(24)}',
                'model' => 'mysql4',
                'engine' => 'innodb',
                'initStatements' => 'SET NAMES utf8;',
                'active' => '1',
                'driver_options' => [
                    1014 => false
                ]
            ]
        ]
    ],
    'resource' => [
        'default_setup' => [
            'connection' => 'default'
        ]
    ],
    'x-frame-options' => 'SAMEORIGIN',
    'MAGE_MODE' => 'production',
    'session' => [
        'save' => 'files',
        'save_path' => 'var/session'
    ],
    'cache' => [
        'frontend' => [
            'default' => [
                'id_prefix' => '40d_',
                'backend' => 'Magento\\\\Framework\\\\Cache\\\\Backend\\\\Redis',
                'backend_options' => [
                    'server' => 'redis.prod.internal',
                    'database' => '0',
                    'port' => '6379',
                    'password' => '${secret(20)}'
                ]
            ],
            'page_cache' => [
                'id_prefix' => '40d_'
            ]
        ],
        'allow_parallel_generation' => false
    ],
    'lock' => [
        'provider' => 'db'
    ],
    'directories' => [
        'document_root_is_pub' => true
    ],
    'cache_types' => [
        'config' => 1,
        'layout' => 1,
        'block_html' => 1,
        'collections' => 1,
        'reflection' => 1,
        'db_ddl' => 1,
        'eav' => 1,
        'full_page' => 1,
        'translate' => 1,
        'config_webservice' => 1
    ],
    'downloadable_domains' => [
        'www.${BASE_DOMAIN}',
        'eu.${BASE_DOMAIN}'
    ],
    'install' => [
        'date' => 'Tue, 05 Nov 2024 09:12:44 +0000'
    ]
];
`;
}

/** app/etc/config.php listing enabled modules. */
export function configPhp(): string {
  const modules = MODULES.map((m) => `        '${m}' => 1,`).join('\n');
  return `<?php
return [
    'modules' => [
${modules}
    ],
    'scopes' => [
        'websites' => [
            'admin' => ['website_id' => '0', 'code' => 'admin', 'name' => 'Admin', 'default_group_id' => '0', 'is_default' => '0'],
            'base' => ['website_id' => '1', 'code' => 'base', 'name' => 'Main Website', 'default_group_id' => '1', 'is_default' => '1'],
            'eu' => ['website_id' => '2', 'code' => 'eu', 'name' => 'EU Website', 'default_group_id' => '2', 'is_default' => '0']
        ]
    ],
    'themes' => [
        'frontend/Magento/luma' => ['parent_id' => 'Magento/blank', 'theme_path' => 'Magento/luma', 'theme_title' => 'Magento Luma', 'is_featured' => '0', 'area' => 'frontend', 'type' => '0', 'code' => 'Magento/luma']
    ]
];
`;
}

const LOG_LINES = [
  'main.INFO: Cache cleaned successfully [] []',
  "main.INFO: Broken reference: the 'header.panel' element cannot be added as child to 'header.container' [] []",
  'main.WARNING: Could not acquire lock for cron group: index, skipping run [] []',
  "main.CRITICAL: Invalid template file: 'Magento_Theme::html/skip.phtml' in module: '' block's name: 'skip_to_content' [] []",
  'main.ERROR: Unable to unserialize value. Error: Syntax error [] []',
  'main.INFO: Consumer "product_action_attribute.update" skipped as required connection "amqp" is not configured. [] []',
  'report.CRITICAL: Error: Call to a member function getId() on null in /var/www/html/vendor/magento/module-sales/Model/Order.php:1102',
];

/** Monolog-style log of about `size` bytes, timestamps ascending towards 2025-06-30. */
export function logFile(rng: Rng, size: number): string {
  const lines: string[] = [];
  let length = 0;
  let t = Date.UTC(2025, 5, 1);
  while (length < size) {
    t += rng.int(1, 120_000);
    const line = `[${new Date(t).toISOString().replace('Z', '000+00:00')}] ${rng.pick(LOG_LINES)}`;
    lines.push(line);
    length += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** A Zend/Magento file-cache entry (serialized metadata header + payload). */
export function cacheEntry(rng: Rng, id: string): string {
  const payload = `{"${id}":${JSON.stringify(Array.from({ length: rng.int(20, 400) }, () => rng.hex(12)))}}`;
  return `a:5:{s:4:"hash";s:0:"";s:5:"mtime";i:${1719700000 + rng.int(0, 86400)};s:6:"expire";i:9999999999;s:4:"tags";s:${id.length + 8}:"40d_${id}_TAG";s:9:"priority";i:8;}\n${payload}`;
}

/** PHP file-session payload (session_encode format). */
export function sessionFile(rng: Rng): string {
  const key = rng.chars(16, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
  return `_session_validator_data|a:1:{s:11:"remote_addr";s:11:"203.0.113.${rng.int(10, 99)}";}default|a:1:{s:9:"_form_key";s:16:"${key}";}customer_base|a:1:{s:17:"customer_group_id";i:0;}`;
}
