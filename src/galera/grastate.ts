import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentError } from '../lib/errors.js';

/**
 * `grastate.dat`: what a Galera node knows of its own position when it is not running. `seqno` is
 * -1 while the node runs or after a crash (the position is then in InnoDB: `--wsrep-recover`);
 * `safeToBootstrap` is true only on the node that left the cluster last, or on a restored
 * snapshot meant to start a new cluster.
 */
export interface Grastate {
  readonly uuid: string;
  readonly seqno: number;
  readonly safeToBootstrap: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parses the file as Galera 4 writes it; a missing or malformed field is an error naming it. */
export function parseGrastate(text: string, source = 'grastate.dat'): Grastate {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+):\s*(.*?)\s*$/.exec(line);
    if (m?.[1] && !line.trimStart().startsWith('#')) fields.set(m[1], m[2] ?? '');
  }
  const field = (name: string, valid: RegExp): string => {
    const value = fields.get(name);
    if (value === undefined || !valid.test(value))
      throw new PermanentError(`${source}: ${name}: ${value === undefined ? 'missing' : `not valid (${JSON.stringify(value)})`}`);
    return value;
  };
  return {
    uuid: field('uuid', UUID),
    seqno: Number(field('seqno', /^-?\d+$/)),
    // absent in files written before Galera 3.19: such a node was never marked safe
    safeToBootstrap: (fields.get('safe_to_bootstrap') ?? '0') === '1',
  };
}

export function formatGrastate(state: Grastate): string {
  return `# GALERA saved state\nversion: 2.1\nuuid:    ${state.uuid}\nseqno:   ${state.seqno}\nsafe_to_bootstrap: ${state.safeToBootstrap ? 1 : 0}\n`;
}

/** The datadir's grastate, or undefined when it has none (a node that never joined, or wiped). */
export async function readGrastate(datadir: string): Promise<Grastate | undefined> {
  const path = join(datadir, 'grastate.dat');
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? undefined : parseGrastate(text, path);
}

/** Replaces the datadir's grastate atomically (a crash leaves the old file or the new one). */
export async function writeGrastate(datadir: string, state: Grastate): Promise<void> {
  const path = join(datadir, 'grastate.dat');
  await writeFile(`${path}.lifeboat-new`, formatGrastate(state));
  await rename(`${path}.lifeboat-new`, path);
}

/**
 * What a stopped node's datadir holds, read without starting anything: `empty` (missing, or
 * nothing but `lost+found` and a restore's hidden work directories: a replacement server, nothing
 * to lose), a `position` its grastate.dat records (a clean stop, or a seeded datadir), or
 * `unknown` (data whose position only InnoDB knows: after a crash, `--wsrep-recover`).
 */
export type DatadirState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'position'; readonly uuid: string; readonly seqno: number }
  | { readonly kind: 'unknown' };

const NO_HISTORY = '00000000-0000-0000-0000-000000000000';

export async function inspectDatadir(datadir: string): Promise<DatadirState> {
  const names = await readdir(datadir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (names.every((n) => n === 'lost+found' || n.startsWith('.lifeboat-'))) return { kind: 'empty' };
  const state = await readGrastate(datadir).catch(() => undefined);
  if (state && state.uuid !== NO_HISTORY && state.seqno >= 0) return { kind: 'position', uuid: state.uuid, seqno: state.seqno };
  return { kind: 'unknown' };
}
