import { Readable } from 'node:stream';
import { IntegrityError } from '../lib/errors.js';
import type { ObjectRecord } from '../repo/manifest.js';
import type { Repository, WriteObjectOptions } from '../repo/repository.js';
import { isSafeRelative } from './meta.js';
import { FILES_FORMAT, type FileEntry, type FileListHeader, type FrameRef } from './types.js';

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
    if (e.pack !== undefined) {
      const frame = e.frame as FrameRef; // written with its pack and entry
      line += `,"pack":${str(e.pack)},"frame":{"offset":${frame.offset},"length":${frame.length}},"entry":${e.entry}`;
    }
    if (e.changedDuringBackup) line += ',"changedDuringBackup":true';
  }
  if (e.brick) line += `,"brick":{"ctime":${str(e.brick.ctime)},"inode":${str(e.brick.inode)}}`;
  return `${line}}`;
}

/**
 * Stores a file list (header line, then one line per entry) compressed under `key`, with the
 * stored and raw checksums every object gets.
 */
export function writeFileList(
  repo: Repository,
  key: string,
  header: FileListHeader,
  entries: Iterable<FileEntry>,
  options: Pick<WriteObjectOptions, 'compressionLevel' | 'signal'> = {},
): Promise<ObjectRecord> {
  function* lines(): Generator<Buffer> {
    let batch: string[] = [JSON.stringify(header)];
    for (const e of entries) {
      batch.push(entryLine(e));
      if (batch.length >= 256) {
        yield Buffer.from(`${batch.join('\n')}\n`);
        batch = [];
      }
    }
    if (batch.length > 0) yield Buffer.from(`${batch.join('\n')}\n`);
  }
  // little read-ahead: lines are produced as the compressor takes them
  return repo.writeObject(key, Readable.from(lines(), { highWaterMark: 1 }), { format: 'jsonl', ...options });
}

/** A file list read back: its header and an iterator over its entries (streamed, verified). */
export interface FileListReader {
  readonly header: FileListHeader;
  readonly entries: AsyncIterable<FileEntry>;
}

/**
 * Opens a stored file list. Lines are parsed as they stream; a malformed line, stored bytes that
 * do not match the record, or a line count other than the header's fail the iteration with an
 * IntegrityError naming the list.
 */
export async function openFileList(repo: Repository, record: ObjectRecord, signal?: AbortSignal): Promise<FileListReader> {
  const stream = await repo.openObject(record, { signal });
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
  async function* entries(): AsyncGenerator<FileEntry> {
    let count = 0;
    try {
      for (;;) {
        const next = await lines.next();
        if (next.done) break;
        if (next.value === '') continue;
        count++;
        yield parseEntry(next.value, record.key, count + 1);
      }
    } finally {
      stream.destroy();
    }
    if (count !== header?.entries)
      throw new IntegrityError(`file list '${record.key}': header announces ${header?.entries} entries, found ${count}`);
  }
  return { header, entries: entries() };
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
