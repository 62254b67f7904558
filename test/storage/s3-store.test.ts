import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { detectCodec } from '../../src/codec/zstd.js';
import { ConflictError, PermanentError, RetryableError, UnsupportedError } from '../../src/lib/errors.js';
import { MANIFEST_FORMAT, type Manifest } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';
import { RetryStore, withPrefix } from '../../src/storage/decorators.js';
import { partSizeFor, S3Store } from '../../src/storage/s3-store.js';
import { s3Facts, uniqueName } from '../helpers/testbed.js';
import { storeConformance } from './conformance.js';

const MiB = 1024 * 1024;

// The real server: Ceph RGW started by test/testbed/testbed.sh.
const facts = s3Facts();
const store = new S3Store({ ...facts, forcePathStyle: true });
test.after.always(() => store.destroy());

storeConformance(test, 'ceph-rgw', () => store, { bigSize: 1024 * MiB, maxRssGrowth: 200 * MiB });

test('ceph-rgw: wrong credentials give a clear permanent error', async (t) => {
  const bad = new S3Store({ ...facts, secretAccessKey: 'not-the-secret', forcePathStyle: true });
  try {
    const err = await t.throwsAsync(bad.put('creds/check', Buffer.from('x')), { instanceOf: PermanentError });
    t.regex(err?.message ?? '', /access denied.*check the access key and secret/);
    await t.throwsAsync(bad.head('creds/check'), { instanceOf: PermanentError });
  } finally {
    bad.destroy();
  }
});

test('ceph-rgw: a missing bucket is a permanent error', async (t) => {
  const missing = new S3Store({ ...facts, bucket: 'no-such-bucket-lifeboat', forcePathStyle: true });
  try {
    await t.throwsAsync(missing.put('x', Buffer.from('x')), { instanceOf: PermanentError });
  } finally {
    missing.destroy();
  }
});

/**
 * An S3Store (300 ms idle limit) talking to a local TCP server that treats each connection as
 * `serve` says; the server, its connections and the store end with the test.
 */
async function storeOnFakeServer(t: ExecutionContext, serve: (socket: Socket) => void): Promise<S3Store> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const store = new S3Store({ ...facts, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, idleTimeoutMs: 300 });
  t.teardown(() => {
    store.destroy();
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return store;
}

// serial: a 300 ms idle limit must not meet an event loop busy with the streaming tests
test.serial('a server that takes requests and never answers fails them as retryable instead of hanging', async (t) => {
  // seen with Ceph RGW: two UploadPart requests never answered hung a snapshot for good
  const silent = await storeOnFakeServer(t, (socket) => socket.resume()); // reads every request, answers none
  await t.throwsAsync(silent.put('silent/small', Buffer.from('x')), { instanceOf: RetryableError, message: /timed out/ });
  const big = Readable.from([Buffer.alloc(9 * MiB)]);
  await t.throwsAsync(silent.put('silent/streamed', big, { sizeHint: 20 * MiB }), { instanceOf: RetryableError });
  await t.throwsAsync(silent.get('silent/small'), { instanceOf: RetryableError });
  t.throws(() => new S3Store({ ...facts, idleTimeoutMs: 0 }), { instanceOf: PermanentError, message: /idleTimeoutMs/ });
});

test.serial('a download that stops part-way fails as retryable once the connection is silent', async (t) => {
  const stalling = await storeOnFakeServer(t, (socket) =>
    socket.once('data', () => {
      // headers for 1 MiB, then 1000 bytes, then nothing
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nContent-Type: application/octet-stream\r\n\r\n');
      socket.write(Buffer.alloc(1000));
    }),
  );
  const body = await stalling.get('stalls/part-way');
  await t.throwsAsync(
    (async () => {
      for await (const _ of body);
    })(),
    { instanceOf: RetryableError, message: /object 'stalls\/part-way'/ },
  );
});

/**
 * A proxy in front of the real RGW that answers `501 NotImplemented` to conditional PUTs, as
 * OpenStack Swift's s3api does, and forwards everything else; `conditional` counts those PUTs.
 */
async function rgwWithout501(t: ExecutionContext): Promise<{ endpoint: string; conditional: () => number }> {
  const upstream = new URL(facts.endpoint);
  let conditional = 0;
  const server = createHttpServer((req, res) => {
    if (req.method === 'PUT' && req.headers['if-none-match']) {
      conditional++;
      req.resume();
      res.writeHead(501, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>',
      );
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, conditional: () => conditional };
}

test('ceph-rgw answering 501 to conditional puts: the 501 is permanent, asked once, not retried', async (t) => {
  const proxy = await rgwWithout501(t);
  const s3 = new S3Store({ ...facts, endpoint: proxy.endpoint, forcePathStyle: true });
  t.teardown(() => s3.destroy());
  const store = new RetryStore(withPrefix(s3, uniqueName('no-conditional')), { baseDelayMs: 1 });
  const err = await t.throwsAsync(store.putIfAbsent('x', Buffer.from('x')), { instanceOf: UnsupportedError });
  t.regex(err?.message ?? '', /^put '.*\/x': the object store does not support conditional writes \(NotImplemented \(HTTP 501\)/);
  t.is(proxy.conditional(), 1, 'one request: neither the SDK nor the retry decorator repeats a 501');
});

test('ceph-rgw answering 501 to conditional puts: a snapshot commits (auto), and on says why it cannot', async (t) => {
  const proxy = await rgwWithout501(t);
  const s3 = new S3Store({ ...facts, endpoint: proxy.endpoint, forcePathStyle: true });
  const store = new RetryStore(withPrefix(s3, uniqueName('no-conditional-commit')), { baseDelayMs: 1 });
  t.teardown(async () => {
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    await store.delete(keys);
    s3.destroy();
  });
  const codec = await detectCodec();
  const repo = new Repository(store, 'shop', codec);
  const id = newSnapshotId();
  const record = await repo.writeObject(`snapshots/${id}/db.sql.zst`, Readable.from([Buffer.alloc(100_000, 'x')]), {
    format: 'sql',
  });
  const now = new Date().toISOString();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    cluster: 'shop',
    node: 'n1',
    tool: { name: 'lifeboat', version: 'test' },
    startedAt: now,
    finishedAt: now,
    parts: {},
    objects: [record],
  };
  t.deepEqual(await repo.commit(manifest), { atomic: false });
  t.deepEqual(await repo.snapshotIds(), [id]);
  await t.throwsAsync(repo.commit({ ...manifest, node: 'n2' }), { instanceOf: ConflictError, message: /already committed/ });
  t.is(proxy.conditional(), 1, 'probed once, then commits without conditional requests');
  const strict = new Repository(store, 'shop', codec, { conditionalWrites: 'on' });
  await t.throwsAsync(strict.commit({ ...manifest, id: newSnapshotId() }), {
    instanceOf: UnsupportedError,
    message: /does not support conditional writes.*'auto' or 'off'/,
  });
});

test('part size grows with the size hint so 10 000 parts always suffice', (t) => {
  t.is(partSizeFor(1 * MiB), 8 * MiB);
  for (const size of [10 * 1024 * MiB, 500 * 1024 * MiB, 4 * 1024 * 1024 * MiB]) {
    const part = partSizeFor(size);
    t.true(part * 10_000 >= size * 1.25, `${size} bytes in parts of ${part}`);
    t.is(part % MiB, 0);
  }
  t.is(partSizeFor(1e15), 5 * 1024 * MiB, 'capped at the S3 maximum part size');
});
