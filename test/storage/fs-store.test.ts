import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { FsStore } from '../../src/storage/fs-store.js';
import { storeConformance } from './conformance.js';

const root = mkdtempSync(join(tmpdir(), 'lifeboat-fs-store-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

storeConformance(test, 'fs', () => new FsStore(root), { bigSize: 1024 * 1024 * 1024, maxRssGrowth: 200 * 1024 * 1024 });
