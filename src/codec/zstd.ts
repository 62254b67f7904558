import { createRequire } from 'node:module';
import { type Duplex, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { type PipelineStage, resolveCommand, spawnTransform } from '../lib/child-process.js';
import { errorMessage, IntegrityError, PermanentError } from '../lib/errors.js';
import { FrameTracker } from './frame-tracker.js';

export interface CompressOptions {
  /** zstd level 1–19 (default 3) */
  readonly level?: number;
  /** worker threads; 0 = one per core (binary codec only) */
  readonly threads?: number;
}

/**
 * A zstd implementation. Every codec reads and writes the standard `.zst` format, so any of them
 * (and the `zstd` command line tool) decodes any other's output. Corrupt or truncated input fails
 * the decompress stream with an IntegrityError.
 */
export interface Codec {
  readonly name: 'node' | 'binary' | 'wasm';
  compress(options?: CompressOptions): Duplex;
  decompress(): Duplex;
  /**
   * The command that compresses its stdin to its stdout as `compress` does, when this codec is
   * one: a producer that is itself a child process is then piped into it directly.
   */
  readonly compressCommand?: (options?: CompressOptions) => PipelineStage;
}

const DEFAULT_LEVEL = 3;

type ZstdFactory = (options: { params: Record<number, number> }) => Transform;
interface ZlibWithZstd {
  createZstdCompress?: ZstdFactory;
  createZstdDecompress?: (options?: object) => Transform;
  constants: Record<string, number>;
}

/** Node's built-in zstd (Node ≥ 22.15 / 23.8), or undefined on older runtimes. */
export function nodeCodec(): Codec | undefined {
  const z = zlib as unknown as ZlibWithZstd;
  const compress = z.createZstdCompress;
  const decompress = z.createZstdDecompress;
  const levelParam = z.constants.ZSTD_c_compressionLevel;
  const checksumParam = z.constants.ZSTD_c_checksumFlag;
  if (!compress || !decompress || levelParam === undefined || checksumParam === undefined) return undefined;
  return {
    name: 'node',
    compress: (options = {}) => compress({ params: { [levelParam]: options.level ?? DEFAULT_LEVEL, [checksumParam]: 1 } }),
    decompress: () => asIntegrity(decompress()),
  };
}

/**
 * The `zstd` command over pipes; multi-threaded. Undefined when no such executable is on PATH
 * (looked up, not run: a start-up cost every process paid); one that is there but fails makes
 * each stream fail with its exit status.
 */
export function binaryCodec(command = 'zstd'): Codec | undefined {
  if (!resolveCommand(command, process.env)) return undefined;
  const compressCommand = (options: CompressOptions = {}): PipelineStage => ({
    command,
    args: ['-q', '-c', `-${options.level ?? DEFAULT_LEVEL}`, `-T${options.threads ?? 0}`],
    opts: { name: 'zstd' },
  });
  return {
    name: 'binary',
    compressCommand,
    compress: (options = {}) => {
      const stage = compressCommand(options);
      return spawnTransform(stage.command, stage.args, stage.opts);
    },
    decompress: () =>
      spawnTransform(command, ['-q', '-d', '-c'], {
        name: 'zstd',
        mapError: (err) => new IntegrityError(`zstd: corrupt or truncated input (${err.message})`, { cause: err }),
      }),
  };
}

interface WasmBinding {
  begin(level?: number): void;
  transform(input: Uint8Array, onOutput: (out: Uint8Array) => void): boolean;
  flush(onOutput: (out: Uint8Array) => void): boolean;
  end(onOutput: (out: Uint8Array) => void): boolean;
  delete(): void;
}
interface WasmModule {
  ZstdCompressStreamBinding: new () => WasmBinding;
  ZstdDecompressStreamBinding: new () => WasmBinding;
}

type WasmRun = (f: (m: WasmModule) => void) => void;

/** A fresh WebAssembly instance: its 16 MiB heap is not shared with any other stream. */
function wasmInstance(run: WasmRun): Promise<{ readonly module: WasmModule }> {
  // Wrapped: the Emscripten module is a thenable, so a promise must never resolve to it directly.
  return new Promise((resolve) => run((module) => resolve({ module })));
}

/**
 * zstd-codec (WebAssembly): slow, single-threaded, with a 16 MiB heap per instance; the last
 * resort when nothing else exists. Each stream gets its own instance (~6 ms), and truncation
 * (which the binding cannot report) is detected by walking the frame structure.
 */
export async function wasmCodec(): Promise<Codec> {
  let run: WasmRun;
  try {
    const require = createRequire(import.meta.url);
    run = (require('zstd-codec/lib/module.js') as { run: WasmRun }).run;
    await wasmInstance(run);
  } catch (err) {
    throw new PermanentError(`zstd-codec: cannot load (${errorMessage(err)})`, { cause: err });
  }
  return {
    name: 'wasm',
    compress: (options = {}) =>
      new WasmTransform(
        wasmInstance(run).then(({ module }) => new module.ZstdCompressStreamBinding()),
        options.level ?? DEFAULT_LEVEL,
      ),
    decompress: () => new WasmTransform(wasmInstance(run).then(({ module }) => new module.ZstdDecompressStreamBinding())),
  };
}

class WasmTransform extends Transform {
  private binding: WasmBinding | undefined;
  private readonly ready: Promise<WasmBinding>;
  private readonly frames: FrameTracker | undefined;
  private readonly emit_ = (out: Uint8Array): void => {
    this.push(Buffer.from(out));
  };

  /** `level` given: compressor; omitted: decompressor. */
  constructor(binding: Promise<WasmBinding>, level?: number) {
    super();
    this.frames = level === undefined ? new FrameTracker() : undefined;
    this.ready = binding.then((b) => {
      if (level === undefined) b.begin();
      else b.begin(level);
      this.binding = b;
      return b;
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    try {
      this.frames?.feed(bytes);
    } catch (err) {
      cb(corrupt(errorMessage(err)));
      return;
    }
    this.ready.then(
      (b) => cb(b.transform(bytes, this.emit_) ? null : this.failure()),
      (err: unknown) => cb(err as Error),
    );
  }

  override _flush(cb: TransformCallback): void {
    this.ready.then(
      (b) => {
        const ok = b.flush(this.emit_) && b.end(this.emit_);
        this.free();
        if (!ok) cb(this.failure());
        else if (this.frames && !this.frames.complete()) cb(corrupt('input ends inside a frame'));
        else cb();
      },
      (err: unknown) => cb(err as Error),
    );
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.free();
    cb(err);
  }

  private failure(): Error {
    return this.frames ? corrupt('zstd-codec could not decode it') : new PermanentError('zstd-codec: compression failed');
  }

  private free(): void {
    this.binding?.delete();
    this.binding = undefined;
  }
}

function corrupt(why: string): IntegrityError {
  return new IntegrityError(`zstd: corrupt or truncated input (${why})`);
}

/** Every codec present on this machine, fastest first. */
export async function availableCodecs(): Promise<Codec[]> {
  const found = [nodeCodec(), binaryCodec()].filter((c): c is Codec => c !== undefined);
  found.push(await wasmCodec());
  return found;
}

/** The fastest codec present: Node's built-in zstd, else the zstd binary, else zstd-codec. */
export async function detectCodec(): Promise<Codec> {
  return nodeCodec() ?? binaryCodec() ?? (await wasmCodec());
}

/** Re-labels a decoder's failure as corrupt input. */
function asIntegrity(stream: Transform): Transform {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (err?: Error) => {
    const wrapped = err && !(err instanceof IntegrityError) ? corrupt(err.message) : err;
    return destroy(wrapped);
  };
  return stream;
}
