import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import type { Codec } from '../codec/zstd.js';
import { AbortedError, errorMessage, IntegrityError, LifeboatError, OutOfRangeError } from '../lib/errors.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { FrameRef } from './types.js';

/** One tar entry of a frame; `content` must be consumed (or abandoned) before asking for the next. */
export interface FrameBlob {
  /** the entry name: the content's sha256 */
  readonly name: string;
  readonly size: number;
  /** offset of the entry's header within the decompressed frame */
  readonly offset: number;
  readonly content: AsyncIterable<Buffer>;
}

/**
 * The entries of one frame of a pack, fetched with a single range read and decompressed on its
 * own. Undecodable bytes fail the iteration with an IntegrityError naming the pack and frame, a
 * pack that ends before the frame does with one saying the pack is shorter than recorded;
 * storage errors pass through unchanged.
 */
export async function* frameBlobs(
  store: ObjectStore,
  codec: Codec,
  pack: string,
  frame: FrameRef,
  signal?: AbortSignal,
): AsyncGenerator<FrameBlob> {
  const where = `pack '${pack}' frame at ${frame.offset}`;
  const source = await store
    .get(pack, { range: { start: frame.offset, end: frame.offset + frame.length - 1 }, signal })
    .catch(async (err: unknown) => {
      throw err instanceof OutOfRangeError ? await shortPack(store, pack, frame, err) : err;
    });
  // a range read past the end of the object returns what there is: then the pack ends early
  let received = 0;
  let ended = false;
  source.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  source.once('end', () => {
    ended = true;
  });
  const short = (cause?: unknown): IntegrityError => shorter(pack, frame, frame.offset + received, cause);
  const tar = extract();
  // stops the download and the decoder when the consumer leaves early or something failed
  const stop = new AbortController();
  let finished = false;
  let complete = false;
  let failure: Error | undefined;
  const fail = (err: unknown): void => {
    if (failure || finished) return;
    if (signal?.aborted) failure = new AbortedError(`${where}: aborted`, { cause: signal.reason });
    else if (ended && received < frame.length) failure = short(err);
    else if (err instanceof LifeboatError && !(err instanceof IntegrityError)) failure = err;
    else failure = new IntegrityError(`${where}: ${errorMessage(err)}`, { cause: err });
    tar.destroy(failure);
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (tar.destroyed) cb(new Error('tar reader closed'));
      else if (tar.write(chunk)) cb();
      else tar.once('drain', () => cb());
    },
    final(cb) {
      tar.end(null);
      cb();
    },
  });
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const feeding = pipeline(source, codec.decompress(), sink, { signal: stop.signal }).catch(fail);
  tar.on('error', fail);
  try {
    for await (const entry of tar) {
      const header = entry.header;
      if (header.type !== 'file') throw new IntegrityError(`${where}: unexpected ${header.type} entry '${header.name}'`);
      let consumed = false;
      const content = (async function* () {
        for await (const chunk of entry) yield chunk as Buffer;
        consumed = true;
      })();
      yield { name: header.name, size: header.size, offset: entry.offset, content };
      if (!consumed) entry.resume();
    }
    await feeding;
    complete = true;
  } catch (err) {
    fail(err);
  } finally {
    finished = true;
    signal?.removeEventListener('abort', onAbort);
    stop.abort();
    source.destroy();
    if (!tar.destroyed) tar.destroy();
  }
  if (failure) throw failure;
  if (complete && received < frame.length) throw short();
}

function shorter(pack: string, frame: FrameRef, size: number, cause?: unknown): IntegrityError {
  const end = frame.offset + frame.length;
  return new IntegrityError(
    `object '${pack}': shorter than its manifest size (${size} < ${end} bytes, where the frame at ${frame.offset} ends)`,
    cause === undefined ? undefined : { cause },
  );
}

/** The error for a frame starting past the end of the pack, with the pack's size when known. */
async function shortPack(store: ObjectStore, pack: string, frame: FrameRef, cause: OutOfRangeError): Promise<Error> {
  const size = await store.head(pack).then(
    (info) => info.size,
    () => undefined,
  );
  return size === undefined || size > frame.offset ? cause : shorter(pack, frame, size, cause);
}
