import { randomBytes } from 'node:crypto';
import { type Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import { availableCodecs, type Codec, detectCodec } from '../../src/codec/zstd.js';
import { END_OF_ARCHIVE_FRAME } from '../../src/files/pack-writer.js';
import { END_OF_ARCHIVE } from '../../src/files/tar.js';
import { IntegrityError } from '../../src/lib/errors.js';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function through(input: Buffer, make: () => Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from(chunkify(input, 64 * 1024)), make(), async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

function* chunkify(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Half compressible text, half random bytes: exercises both paths of the compressor. */
function sample(size: number): Buffer {
  const text = Buffer.from('INSERT INTO `sales_order` VALUES (1,"pending","2026-11-26"),\n'.repeat(Math.ceil(size / 2 / 60)));
  return Buffer.concat([text.subarray(0, size / 2), randomBytes(size / 2)]);
}

const codecs = await availableCodecs();

test('the fastest available codec is picked', async (t) => {
  const best = await detectCodec();
  t.is(best.name as string, codecs[0]?.name ?? 'none');
  t.true(
    codecs.some((c) => c.name === 'wasm'),
    'zstd-codec is always available as last resort',
  );
});

for (const writer of codecs) {
  for (const reader of codecs) {
    test(`${reader.name} decompresses ${writer.name} output`, async (t) => {
      const input = sample(3 * 1024 * 1024);
      const packed = await through(input, () => writer.compress());
      t.true(packed.length < input.length);
      t.deepEqual(packed.subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'standard zstd frame magic');
      const unpacked = await through(packed, () => reader.decompress());
      t.true(unpacked.equals(input));
    });
  }
}

for (const codec of codecs) {
  // Frames from zstd-codec carry no content checksum, so flipped bytes inside a stored block are
  // only caught by the manifest's sha256; the checksummed frames of the other codecs are used here.
  test(`${codec.name}: corrupt input fails with an integrity error`, async (t) => {
    const checksummed = codecs.find((c) => c.name !== 'wasm') ?? codec;
    const packed = await through(sample(1024 * 1024), () => checksummed.compress());
    const corrupt = Buffer.from(packed);
    for (let i = 100; i < corrupt.length; i += 997) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff;
    const err = await t.throwsAsync(through(corrupt, () => codec.decompress()));
    t.true(err instanceof IntegrityError, `got ${err?.name}: ${err?.message}`);
    t.regex(err?.message ?? '', /corrupt/);
  });

  test(`${codec.name}: truncated input fails with an integrity error`, async (t) => {
    const packed = await through(sample(1024 * 1024), () => codec.compress());
    const err = await t.throwsAsync(through(packed.subarray(0, packed.length - 50), () => codec.decompress()));
    t.true(err instanceof IntegrityError, `got ${err?.name}: ${err?.message}`);
  });

  test(`${codec.name}: empty input round-trips`, async (t) => {
    const packed = await through(Buffer.alloc(0), () => codec.compress());
    const unpacked = await through(packed, () => codec.decompress());
    t.is(unpacked.length, 0);
  });
}

test('every codec reads the end-of-archive frame that closes each pack', async (t) => {
  for (const codec of codecs)
    t.true((await through(END_OF_ARCHIVE_FRAME, () => codec.decompress())).equals(END_OF_ARCHIVE), codec.name);
});

test('a failing zstd process fails the stream', async (t) => {
  const { binaryCodec } = await import('../../src/codec/zstd.js');
  const codec: Codec | undefined = binaryCodec();
  if (!codec) return t.fail('zstd binary missing');
  const err = await t.throwsAsync(collect(Readable.from([Buffer.from('not zstd at all')]).pipe(codec.decompress())));
  t.truthy(err);
});

test('the zstd binary is found on PATH; a missing one leaves the next codec to take over', async (t) => {
  const { binaryCodec } = await import('../../src/codec/zstd.js');
  t.is(binaryCodec()?.name, 'binary');
  t.is(binaryCodec('lifeboat-no-such-zstd'), undefined);
  t.is(binaryCodec('/nonexistent/zstd'), undefined);
  t.is(binaryCodec('/etc'), undefined, 'a directory is not a command');
});
