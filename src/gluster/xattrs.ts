import { run } from '../lib/child-process.js';
import { isoFromNs } from '../lib/time.js';
import { CLI_TIMEOUT_MS } from './glusterd.js';

/** What the mount shows of an entry, as Gluster keeps it on the brick. */
export interface MountTimes {
  readonly mtime: string;
  readonly inode: string;
}

/** Reads xattrs of brick paths (without following symlinks) the way `getfattr -d -e hex` prints them. */
export type XattrReader = (paths: readonly string[], signal?: AbortSignal) => Promise<string>;

export const getfattr: XattrReader = (paths, signal) => {
  const timeout = AbortSignal.timeout(CLI_TIMEOUT_MS);
  return run(
    'getfattr',
    ['-h', '-d', '-e', 'hex', '--absolute-names', '-m', '^trusted\\.(gfid|glusterfs\\.mdata)$', '--', ...paths],
    {
      name: 'getfattr',
      okExitCodes: [1], // some paths vanished: the others are still printed
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    },
  );
};

const XATTR_BATCH = 512;

/**
 * The mount's mtime and inode of brick entries, without asking the mount: the FUSE client shows
 * the mtime kept in `trusted.glusterfs.mdata` (volumes with `features.ctime on`) and an inode
 * number made of the last 8 bytes of `trusted.gfid`. Paths without both (or in an unknown mdata
 * version) are missing from the result and must be looked up through the mount.
 */
export async function mountTimesFromBrick(
  paths: readonly string[],
  options: { readonly reader?: XattrReader; readonly signal?: AbortSignal; readonly onError?: (err: unknown) => void } = {},
): Promise<Map<string, MountTimes>> {
  const reader = options.reader ?? getfattr;
  const out = new Map<string, MountTimes>();
  for (let i = 0; i < paths.length; i += XATTR_BATCH) {
    let text: string;
    try {
      text = await reader(paths.slice(i, i + XATTR_BATCH), options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      options.onError?.(err);
      continue; // these paths are looked up through the mount
    }
    for (const [path, attrs] of parseGetfattr(text)) {
      const times = mountTimes(attrs.get('trusted.gfid'), attrs.get('trusted.glusterfs.mdata'));
      if (times) out.set(path, times);
    }
  }
  return out;
}

/** `getfattr -d -e hex` output: attributes (hex values without `0x`) by file; names unescaped. */
export function parseGetfattr(text: string): Map<string, Map<string, string>> {
  const files = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      files.set(unquote(line.slice('# file: '.length)), current);
      continue;
    }
    const attr = /^([^=]+)=0x([0-9a-fA-F]*)$/.exec(line);
    if (attr?.[1] && attr[2] !== undefined && current) current.set(attr[1], attr[2].toLowerCase());
  }
  return files;
}

/** getfattr writes bytes outside printable ASCII, whitespace, `\\` and `=` as `\\ooo`. */
function unquote(name: string): string {
  if (!name.includes('\\')) return name;
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const octal = name[i] === '\\' ? /^[0-7]{3}/.exec(name.slice(i + 1))?.[0] : undefined;
    if (octal) {
      bytes.push(Number.parseInt(octal, 8));
      i += 3;
    } else bytes.push(...Buffer.from(name[i] as string, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** mdata version 1: version (1 byte), flags (8), then ctime, mtime, atime as big-endian u64 seconds + nanoseconds. */
function mountTimes(gfid: string | undefined, mdata: string | undefined): MountTimes | undefined {
  if (gfid?.length !== 32 || mdata?.length !== 2 * 57) return undefined;
  const bytes = Buffer.from(mdata, 'hex');
  if (bytes[0] !== 1 || bytes.readBigUInt64BE(1) !== 0n) return undefined;
  const seconds = bytes.readBigUInt64BE(25);
  const nanos = bytes.readBigUInt64BE(33);
  if (nanos >= 1_000_000_000n) return undefined;
  return { mtime: isoFromNs(seconds * 1_000_000_000n + nanos), inode: BigInt(`0x${gfid.slice(16)}`).toString() };
}
