import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Lifeboat's version, from the nearest package.json named `lifeboat` above this module (compiled or bundled). */
export function toolVersion(): string {
  if (cached) return cached;
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'lifeboat') {
        cached = pkg.version;
        return cached;
      }
    } catch {
      // none here
    }
    if (dir.pathname === '/') throw new Error('lifeboat: cannot find its package.json');
  }
}
