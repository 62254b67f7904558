import { Readable } from 'node:stream';
import { IntegrityError } from '../lib/errors.js';
import type { ObjectRecord } from '../repo/manifest.js';
import type { Repository } from '../repo/repository.js';
import { isSafeRelative } from './meta.js';
import { type BrickKey, FILES_FORMAT, type FileEntry, type FileListHeader, type FrameRef } from './types.js';

const str = JSON.stringify;

/**
 * One JSON line, fields in a fixed order; the location fields only for files with content. Built
 * by hand (it runs once per entry of every list): the same text `JSON.stringify` gives for the
 * object with these fields in this order.
 */
export function entryLine(e: FileEntry): string {
  let line = `{"path":${str(e.path)},"type":"${e.type}","mode":${str(e.mode)},"uid":${e.uid},"gid":${e.gid},"mtime":${str(e.mtime)}`;
  if (e.type === 'symlink') line += `,"target":${str(e.target)}`;
  else if (e.type === 'file') {
    line += `,"size":${e.size},"inode":${str(e.inode)},"sha256":${str(e.sha256)}`;
    if (e.pack !== undefined) line += `,"pack":${str(e.pack)},"frame":${str(e.frame)},"entry":${e.entry}`;
    if (e.changedDuringBackup) line += ',"changedDuringBackup":true';
  }
  if (e.brick) line += `,"brick":{"ctime":${str(e.brick.ctime)},"inode":${str(e.brick.inode)}}`;
  return `${line}}`;
}

/** What a walk knows of an entry, to tell whether a line of an earlier list still describes it. */
export interface LineKey {
  readonly path: string;
  readonly type: FileEntry['type'];
  /** as modeString writes it */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  /** files only */
  readonly size?: number;
  /** symlinks only */
  readonly target?: string;
  /** the mount's mtime, and for files its inode; omitted when `brick` vouches for them */
  readonly mtime?: string;
  readonly inode?: string;
  /** the entry's brick key; omitted for an entry walked on the mount, whose line has none */
  readonly brick?: BrickKey;
}

// JSON strings as JSON.stringify writes them; numbers without leading zeros and below 2^53
// (inodes, as decimal strings, below 2^64); times without escapes or control characters
const STRING = '"(?:[^"\\\\\\x00-\\x1f]|\\\\.)*"';
const NUMBER = '(?:0|[1-9]\\d{0,14})';
const INODE = '"(?:0|[1-9]\\d{0,19})"';
const TIME = '"[^"\\\\\\x00-\\x1f]+"';
const PATH = `"path":${STRING}`;
const META = `"mode":"[0-7]{4}","uid":${NUMBER},"gid":${NUMBER},"mtime":${TIME}`;
const BRICK = `(?:,"brick":\\{"ctime":${TIME},"inode":${INODE}\\})?`;
/** the exact shapes entryLine writes, content flags excluded: a line flagged changedDuringBackup never matches */
const SHAPES: Record<FileEntry['type'], RegExp> = {
  file: new RegExp(
    `^\\{${PATH},"type":"file",${META},"size":${NUMBER},"inode":${INODE},"sha256":"[0-9a-f]{64}"` +
      `(?:,"pack":"packs/[0-9a-f]{2}/[0-9a-f]+\\.tar\\.zst","frame":\\{"offset":${NUMBER},"length":[1-9]\\d{0,14}\\},"entry":${NUMBER})?${BRICK}\\}$`,
  ),
  dir: new RegExp(`^\\{${PATH},"type":"dir",${META}${BRICK}\\}$`),
  symlink: new RegExp(`^\\{${PATH},"type":"symlink",${META},"target":${STRING}${BRICK}\\}$`),
};

/**
 * True when `line` (of an earlier list) is the line entryLine writes for an entry with exactly
 * these fields, so it can be written again as it is: the common case of an incremental snapshot,
 * which then neither parses nor rebuilds it. A file's line must point into a pack unless empty
 * (the caller checks that the pack still exists).
 */
export function isSameEntryLine(line: string, k: LineKey): boolean {
  if (!SHAPES[k.type].test(line)) return false;
  let head = `{"path":${str(k.path)},"type":"${k.type}","mode":"${k.mode}","uid":${k.uid},"gid":${k.gid},"mtime":`;
  if (k.mtime !== undefined) {
    head += str(k.mtime);
    if (k.type === 'file') head += `,"size":${k.size},"inode":${str(k.inode)},`;
    else if (k.type === 'symlink') head += `,"target":${str(k.target)}`;
  }
  if (!line.startsWith(head)) return false;
  if (k.mtime === undefined) {
    if (k.type === 'file' && !line.includes(`,"size":${k.size},"inode":"`, head.length)) return false;
    if (k.type === 'symlink' && !line.includes(`,"target":${str(k.target)}`, head.length)) return false;
  }
  if (k.type === 'file' && k.size !== 0 && !line.includes(',"pack":"', head.length)) return false; // (entryLine writes none for size 0)
  const brick = k.brick ? `,"brick":{"ctime":${str(k.brick.ctime)},"inode":${str(k.brick.inode)}}}` : undefined;
  return brick ? line.endsWith(brick) : !line.endsWith('"}}'); // a brick key closes the line with `"}}`
}

/** The pack a file's entry line points into (undefined: none), read without parsing the line. */
export function linePack(line: string): string | undefined {
  const at = line.indexOf(',"pack":"');
  if (at < 0) return undefined;
  return line.slice(at + 9, line.indexOf('"', at + 9));
}

/** The path of an entry line, read without parsing the line unless it has escapes. */
export function linePath(line: string, key: string, n: number): string {
  if (line.startsWith('{"path":"')) {
    const end = line.indexOf('"', 9);
    const raw = line.slice(9, end);
    if (end > 9 && !raw.includes('\\')) return raw;
  }
  return parseEntry(line, key, n).path;
}

/**
 * Stores a file list (header line, then one line per entry) compressed under `key`, with the
 * stored and raw checksums every object gets. An entry given as a string is a line of an
 * earlier list that isSameEntryLine matched, written as it is.
 */
export function writeFileList(
  repo: Repository,
  key: string,
  header: FileListHeader,
  entries: Iterable<FileEntry | string>,
  options: { compressionLevel?: number; signal?: AbortSignal } = {},
): Promise<ObjectRecord> {
  function* lines(): Generator<Buffer> {
    let batch: string[] = [JSON.stringify(header)];
    for (const e of entries) {
      batch.push(typeof e === 'string' ? e : entryLine(e));
      if (batch.length >= 256) {
        yield Buffer.from(`${batch.join('\n')}\n`);
        batch = [];
      }
    }
    if (batch.length > 0) yield Buffer.from(`${batch.join('\n')}\n`);
  }
  // little read-ahead: lines are produced as the compressor takes them
  return repo.writeObject(key, Readable.from(lines(), { highWaterMark: 1 }), {
    format: 'jsonl',
    ...(options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** A file list read back: its header and an iterator over its entries (streamed, verified). */
export interface FileListReader {
  readonly header: FileListHeader;
  readonly entries: AsyncIterable<FileEntry>;
}

/**
 * Opens a stored file list. Lines are parsed as they stream; a malformed line, or stored bytes
 * that do not match the record, fail the iteration with an IntegrityError naming the list.
 */
export async function openFileList(repo: Repository, record: ObjectRecord, signal?: AbortSignal): Promise<FileListReader> {
  const { header, lines } = await openFileListLines(repo, record, signal);
  async function* entries(): AsyncGenerator<FileEntry> {
    let n = 1;
    for await (const line of lines) yield parseEntry(line, record.key, ++n);
  }
  return { header, entries: entries() };
}

/**
 * Opens a stored file list for its entry lines, unparsed (parseEntry checks one). Stored bytes
 * that do not match the record, or a line count other than the header's, fail the iteration.
 */
export async function openFileListLines(
  repo: Repository,
  record: ObjectRecord,
  signal?: AbortSignal,
): Promise<{ header: FileListHeader; lines: AsyncIterable<string> }> {
  const stream = await repo.openObject(record, signal ? { signal } : {});
  const lines = splitLines(stream)[Symbol.asyncIterator]();
  const first = await lines.next().catch((err: unknown) => {
    stream.destroy();
    throw err;
  });
  const header = first.done ? undefined : parseHeader(first.value, record.key);
  if (!header) {
    stream.destroy();
    throw new IntegrityError(`file list '${record.key}': missing header line`);
  }
  async function* entryLines(): AsyncGenerator<string> {
    let count = 0;
    try {
      for (;;) {
        const next = await lines.next();
        if (next.done) break;
        if (next.value === '') continue;
        count++;
        yield next.value;
      }
    } finally {
      stream.destroy();
    }
    if (count !== header?.entries)
      throw new IntegrityError(`file list '${record.key}': header announces ${header?.entries} entries, found ${count}`);
  }
  return { header, lines: entryLines() };
}

/**
 * Reads a whole list into a map of its entry lines by path (lines stream; only the map is held):
 * an incremental snapshot parses only the lines it cannot reuse as they are.
 */
export async function loadFileListLines(
  repo: Repository,
  record: ObjectRecord,
  signal?: AbortSignal,
): Promise<{ header: FileListHeader; lines: Map<string, string> }> {
  const list = await openFileListLines(repo, record, signal);
  const lines = new Map<string, string>();
  let n = 1;
  for await (const line of list.lines) lines.set(linePath(line, record.key, ++n), line);
  return { header: list.header, lines };
}

async function* splitLines(stream: Readable): AsyncGenerator<string> {
  let carry = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    const parts = (carry + (chunk as string)).split('\n');
    carry = parts.pop() ?? '';
    yield* parts;
  }
  if (carry !== '') yield carry;
}

function parseHeader(line: string, key: string): FileListHeader {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new IntegrityError(`file list '${key}': header is not JSON`);
  }
  if (v.format !== FILES_FORMAT) throw new IntegrityError(`file list '${key}': unknown format '${String(v.format)}'`);
  if (typeof v.area !== 'string' || typeof v.entries !== 'number')
    throw new IntegrityError(`file list '${key}': header lacks area or entries`);
  if (v.root !== undefined) {
    const r = v.root as Record<string, unknown> | null;
    if (
      typeof r?.mode !== 'string' ||
      !/^[0-7]{4}$/.test(r.mode) ||
      !Number.isInteger(r.uid) ||
      !Number.isInteger(r.gid) ||
      typeof r.mtime !== 'string'
    )
      throw new IntegrityError(`file list '${key}': header has a malformed root`);
  }
  return v as unknown as FileListHeader;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Validates one entry line (line `n` of list `key`); anything a restore could trip over is an IntegrityError. */
export function parseEntry(line: string, key: string, n: number): FileEntry {
  const bad = (why: string): IntegrityError => new IntegrityError(`file list '${key}': line ${n}: ${why}`);
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof v.path !== 'string' || !isSafeRelative(v.path)) throw bad(`unsafe path '${String(v.path)}'`);
  if (typeof v.mode !== 'string' || !/^[0-7]{4}$/.test(v.mode)) throw bad('bad mode');
  if (!Number.isInteger(v.uid) || !Number.isInteger(v.gid)) throw bad('bad uid or gid');
  if (typeof v.mtime !== 'string') throw bad('bad mtime');
  if (v.brick !== undefined) {
    const b = v.brick as Record<string, unknown> | null;
    if (typeof b?.ctime !== 'string' || typeof b.inode !== 'string') throw bad('bad brick key');
  }
  switch (v.type) {
    case 'dir':
      return v as unknown as FileEntry;
    case 'symlink':
      if (typeof v.target !== 'string') throw bad('symlink without target');
      return v as unknown as FileEntry;
    case 'file': {
      if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) throw bad('bad size');
      if (typeof v.sha256 !== 'string' || !SHA256.test(v.sha256)) throw bad('bad sha256');
      if (v.pack !== undefined) {
        const frame = v.frame as FrameRef | undefined;
        if (typeof v.pack !== 'string' || !/^packs\/[0-9a-f]{2}\/[0-9a-f]+\.tar\.zst$/.test(v.pack)) throw bad('bad pack');
        if (!frame || !Number.isSafeInteger(frame.offset) || !Number.isSafeInteger(frame.length) || frame.length <= 0)
          throw bad('bad frame');
        if (!Number.isSafeInteger(v.entry) || (v.entry as number) < 0) throw bad('bad entry offset');
      } else if (v.size !== 0) throw bad('file with content but no pack');
      return v as unknown as FileEntry;
    }
    default:
      throw bad(`unknown type '${String(v.type)}'`);
  }
}
