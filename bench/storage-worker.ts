import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { S3Store } from '../src/storage/s3-store.js';
import { s3Facts } from '../test/helpers/testbed.js';

// One measured operation in its own process: `put <file> <key>` streams a file of unknown
// length (no size hint) into the store; `get <key> -` streams an object to stdout.
const [op, a, b] = process.argv.slice(2);
const store = new S3Store({ ...s3Facts(), forcePathStyle: true });
if (op === 'put' && a && b) await store.put(b, createReadStream(a, { highWaterMark: 1024 * 1024 }));
else if (op === 'get' && a && b === '-') await pipeline(await store.get(a), process.stdout);
else throw new Error('usage: storage-worker put <file> <key> | get <key> -');
store.destroy();
