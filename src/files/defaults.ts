import type { AreaSpec } from './types.js';

/**
 * Magento's file areas with excludes for what Magento regenerates or throws away anyway (caches,
 * sessions, temporary files, resized product images). Paths are relative to the Magento root.
 */
export const DEFAULT_AREAS: readonly AreaSpec[] = [
  { name: 'var', path: 'var', include: ['**'], exclude: ['cache/**', 'page_cache/**', 'session/**', 'tmp/**'] },
  { name: 'pub/media', path: 'pub/media', include: ['**'], exclude: ['catalog/product/cache/**', 'tmp/**'] },
  { name: 'pub/static', path: 'pub/static', include: ['**'], exclude: [] },
  { name: 'app/etc', path: 'app/etc', include: ['**'], exclude: [] },
];
