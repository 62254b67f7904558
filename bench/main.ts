import { benchDb } from './db.js';
import { benchFiles } from './files.js';
import { benchStorage } from './storage.js';

const benches: Record<string, () => Promise<void>> = { storage: benchStorage, db: benchDb, files: benchFiles };

const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`bench: unknown benchmark '${name}' (known: ${Object.keys(benches).join(', ')})`);
    process.exit(2);
  }
  await bench();
}
