import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { XMLParser } from 'fast-xml-parser';
import { run } from '../lib/child-process.js';
import { AbortedError, errorMessage } from '../lib/errors.js';
import { CliProc, callGlusterd, GLUSTERD_SOCKET, type GlusterDict } from './glusterd-rpc.js';
import { isoFromNs } from './meta.js';

/** Runs `gluster --mode=script <args>` and returns its stdout. */
export type GlusterCli = (args: readonly string[], signal?: AbortSignal) => Promise<string>;

/** The questions Lifeboat asks glusterd (the seam tests replace). All are read-only. */
export interface Glusterd {
  /** `volume info <volume>` */
  volumeInfo(volume: string, signal?: AbortSignal): Promise<VolumeInfo>;
  /** this host's UUID (`system:: uuid get`) */
  hostUuid(signal?: AbortSignal): Promise<string>;
  /** entries pending heal per brick (`host:/path`); a brick that did not answer (down) is absent */
  healCounts(volume: string, signal?: AbortSignal): Promise<Map<string, number>>;
  /** the value in effect of a volume option (`volume get`), such as `on` */
  volumeOption(volume: string, key: string, signal?: AbortSignal): Promise<string>;
}

/** The local brick directory that holds exactly what a directory on a GlusterFS mount shows. */
export interface BrickView {
  /** `<volume id>:<brick>`: entries keyed by brick stats compare only within one brick */
  readonly id: string;
  readonly volume: string;
  /** `host:/path` as the volume lists it */
  readonly brick: string;
  /** every brick of the volume (`host:/path`) */
  readonly bricks: readonly string[];
  /** the brick-side directory of the mount directory asked for */
  readonly dir: string;
  /** true when `dir` is the brick's root, whose `.glusterfs*` and `.trashcan` entries are Gluster's own */
  readonly atBrickRoot: boolean;
  /**
   * true when the volume keeps consistent times (`features.ctime on`): the brick's
   * `trusted.glusterfs.mdata` xattr then holds the times the mount shows
   */
  readonly mdata: boolean;
}

export type BrickChoice =
  | { readonly kind: 'brick'; readonly view: BrickView }
  | { readonly kind: 'mount'; readonly reason: string };

export interface BrickOptions {
  /** default: glusterd's socket, and the gluster CLI when that fails (defaultGlusterd) */
  readonly glusterd?: Glusterd;
  /** reads brick xattrs (default: the getfattr binary) */
  readonly reader?: XattrReader;
  /** contents of /proc/self/mountinfo (default: read it) */
  readonly mountinfo?: string;
  readonly signal?: AbortSignal;
}

const CLI_TIMEOUT_MS = 30_000;

export const glusterCli: GlusterCli = (args, signal) => {
  const timeout = AbortSignal.timeout(CLI_TIMEOUT_MS);
  return run('gluster', ['--mode=script', ...args], {
    name: 'gluster',
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
};

/** glusterd asked through the `gluster` CLI, one process per question. */
export function cliGlusterd(gluster: GlusterCli = glusterCli): Glusterd {
  const cli: GlusterCli = (args, signal) => whileBusy(() => gluster(args, signal), signal);
  return {
    volumeInfo: async (volume, signal) => parseVolumeInfo(await cli(['volume', 'info', volume, '--xml'], signal)),
    hostUuid: async (signal) => {
      const uuid = /UUID:\s*(\S+)/.exec(await cli(['system::', 'uuid', 'get'], signal))?.[1];
      if (!uuid) throw new Error("cannot tell this host's Gluster UUID");
      return uuid;
    },
    healCounts: async (volume, signal) =>
      parseHealCount(await cli(['volume', 'heal', volume, 'statistics', 'heal-count'], signal)),
    volumeOption: async (volume, key, signal) => {
      const out = await cli(['volume', 'get', volume, key], signal);
      for (const line of out.split('\n')) {
        const [name, value] = line.trim().split(/\s+/);
        if (name === key && value !== undefined) return value;
      }
      throw new Error(`volume get ${volume} ${key}: no value in the answer`);
    },
  };
}

/** glusterd asked on its socket (a few milliseconds each): the call the CLI makes, its reply read as the CLI reads it. */
export function rpcGlusterd(socket = GLUSTERD_SOCKET): Glusterd {
  const ask = async (proc: number, what: string, dict: Record<string, string>, signal?: AbortSignal) => {
    const once = async () => {
      const reply = await callGlusterd(proc, new Map(Object.entries(dict)), { socket, ...(signal ? { signal } : {}) });
      if (reply.opRet !== 0) throw new Error(`${what} failed: ${reply.opErrstr || `error ${reply.opErrno}`}`);
      return reply.dict;
    };
    return whileBusy(once, signal);
  };
  return {
    volumeInfo: async (volume, signal) =>
      volumeInfoFromDict(await ask(CliProc.getVolume, `volume info ${volume}`, { flags: '2', volname: volume }, signal)),
    hostUuid: async (signal) => {
      const cmd = 'system:: uuid get';
      const uuid = (await ask(CliProc.uuidGet, cmd, { 'cmd-str': cmd }, signal)).get('uuid');
      if (!uuid) throw new Error("cannot tell this host's Gluster UUID");
      return uuid;
    },
    healCounts: async (volume, signal) => {
      const cmd = `volume heal ${volume} statistics heal-count`;
      return healCountsFromDict(
        await ask(CliProc.heal, cmd, { 'cmd-str': cmd, 'heal-op': HEAL_OP_COUNT, volname: volume }, signal),
      );
    },
    volumeOption: async (volume, key, signal) => {
      const cmd = `volume get ${volume} ${key}`;
      const dict = await ask(CliProc.getVolOpt, cmd, { 'cmd-str': cmd, key, volname: volume }, signal);
      for (let i = 1; i <= Number(dict.get('count') ?? 0); i++)
        if (dict.get(`key${i}`) === key) {
          const value = dict.get(`value${i}`)?.split(' ')[0];
          if (value) return value;
        }
      throw new Error(`${cmd}: no value in the answer`);
    },
  };
}

/** glusterd refuses a second transaction on a volume (a heal count is one) while one runs. */
const BUSY = /Another transaction is in progress|Locking failed on|try again after some time/i;
const BUSY_RETRIES = [50, 100, 200, 400, 800];

/** Runs `ask` again, after a short wait, while glusterd says it is busy with another transaction. */
async function whileBusy<R>(ask: () => Promise<R>, signal: AbortSignal | undefined): Promise<R> {
  for (const wait of BUSY_RETRIES) {
    try {
      return await ask();
    } catch (err) {
      if (!BUSY.test(errorMessage(err))) throw err;
      await sleep(wait, undefined, signal ? { signal } : {}).catch((cause: unknown) => {
        throw new AbortedError('glusterd question aborted', { cause: signal?.reason ?? cause });
      });
    }
  }
  return ask();
}

/** GF_SHD_OP_STATISTICS_HEAL_COUNT */
const HEAL_OP_COUNT = '8';

/** glusterd's socket first; any failure there asks the CLI instead (`onFallback` hears why). */
export function defaultGlusterd(
  options: {
    readonly socket?: string;
    readonly cli?: GlusterCli;
    readonly onFallback?: (what: string, err: unknown) => void;
  } = {},
): Glusterd {
  const rpc = rpcGlusterd(options.socket);
  const cli = cliGlusterd(options.cli);
  const onFallback = options.onFallback;
  const either =
    <A extends unknown[], R>(what: string, first: (...a: A) => Promise<R>, second: (...a: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await first(...args);
      } catch (err) {
        if (err instanceof AbortedError || args.some((a) => a instanceof AbortSignal && a.aborted)) throw err;
        onFallback?.(what, err);
        return second(...args);
      }
    };
  return {
    volumeInfo: either('volume info', rpc.volumeInfo, cli.volumeInfo),
    hostUuid: either('uuid get', rpc.hostUuid, cli.hostUuid),
    healCounts: either('heal count', rpc.healCounts, cli.healCounts),
    volumeOption: either('volume get', rpc.volumeOption, cli.volumeOption),
  };
}

/** glusterd whose answers are kept: one snapshot asks about each volume once. */
export function memoizedGlusterd(glusterd: Glusterd): Glusterd {
  const answers = new Map<string, Promise<unknown>>();
  const once = <R>(key: string, ask: () => Promise<R>): Promise<R> => {
    let answer = answers.get(key) as Promise<R> | undefined;
    if (!answer) {
      answer = ask();
      answers.set(key, answer);
    }
    return answer;
  };
  return {
    volumeInfo: (volume, signal) => once(`info\0${volume}`, () => glusterd.volumeInfo(volume, signal)),
    hostUuid: (signal) => once('uuid', () => glusterd.hostUuid(signal)),
    healCounts: (volume, signal) => once(`heal\0${volume}`, () => glusterd.healCounts(volume, signal)),
    volumeOption: (volume, key, signal) => once(`get\0${volume}\0${key}`, () => glusterd.volumeOption(volume, key, signal)),
  };
}

/** Names at a brick's root that are Gluster's internals, never visible through the mount. */
export const BRICK_INTERNAL = /^(?:\.glusterfs|\.glusterfs-.*|\.trashcan)$/s;

/**
 * Decides whether `dir` (on a GlusterFS FUSE mount) can be read from a local brick instead: only
 * for a pure replicate volume without sharding, from a data (not arbiter) brick served by this
 * host, when no brick of the volume has entries pending heal (so the local brick holds every
 * write completed before this call). Anything else, including any failure to tell, reads the
 * mount; the reason says why.
 */
export async function chooseBrick(dir: string, options: BrickOptions = {}): Promise<BrickChoice> {
  const glusterd = options.glusterd ?? defaultGlusterd();
  const mount = (reason: string): BrickChoice => ({ kind: 'mount', reason });
  try {
    const real = await realpath(dir);
    const mounts = parseMountinfo(options.mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8')));
    // the deepest mount holding `dir`; of mounts stacked on one point, the last (visible) one
    const under = mounts
      .map((m, order) => ({ m, order }))
      .filter(({ m }) => real === m.mountPoint || real.startsWith(m.mountPoint === '/' ? '/' : `${m.mountPoint}/`))
      .sort((a, b) => b.m.mountPoint.length - a.m.mountPoint.length || b.order - a.order)[0]?.m;
    if (under?.fstype !== 'fuse.glusterfs') return mount('not on a GlusterFS mount');
    const source = /^[^:]+:\/?([^/]+)(\/.*)?$/.exec(under.source);
    if (!source?.[1]) return mount(`cannot parse the mount source '${under.source}'`);
    const volume = source[1];
    // a subdirectory mount (`host:/vol/sub`) and a bind mount of part of the volume (mountinfo root)
    const subdir = join(source[2] ?? '', under.root)
      .replace(/^\/+|\/+$/g, '')
      .replace(/^\.$/, '');
    const rel = real.slice(under.mountPoint.length).replace(/^\/+/, '');

    // read-only questions, asked together
    const [info, self, heal, ctime] = await Promise.all([
      glusterd.volumeInfo(volume, options.signal),
      glusterd.hostUuid(options.signal),
      glusterd.healCounts(volume, options.signal),
      glusterd.volumeOption(volume, 'features.ctime', options.signal).catch(() => undefined),
    ]);
    if (info.type !== 'Replicate') return mount(`volume '${volume}' is ${info.type}: a brick holds only part of its files`);
    if (info.options.get('features.shard') === 'on') return mount(`volume '${volume}' is sharded`);
    const unhealthy = healProblem(
      info.bricks.map((b) => b.name),
      heal,
    );
    if (unhealthy) return mount(unhealthy);
    for (const b of info.bricks) {
      if (b.hostUuid !== self || b.arbiter) continue;
      const path = b.name.slice(b.name.indexOf(':') + 1);
      const brickDir = join(path, subdir, rel);
      const found = await stat(brickDir).catch(() => undefined);
      if (!found?.isDirectory()) continue;
      return {
        kind: 'brick',
        view: {
          id: `${info.id}:${b.name}`,
          volume,
          brick: b.name,
          bricks: info.bricks.map((x) => x.name),
          dir: brickDir,
          atBrickRoot: subdir === '' && rel === '',
          mdata: ctime === 'on',
        },
      };
    }
    return mount(`no data brick of volume '${volume}' on this host holds '${rel || '.'}'`);
  } catch (err) {
    return mount(`cannot inspect the Gluster volume: ${errorMessage(err)}`);
  }
}

/** Why the volume is not fully healed according to its heal counts, or undefined when it is. */
export function healProblem(bricks: readonly string[], pending: ReadonlyMap<string, number>): string | undefined {
  for (const b of bricks) {
    const count = pending.get(b);
    if (count === undefined) return `brick ${b} did not report its heal count (down?)`;
    if (count > 0) return `brick ${b} has ${count} entries pending heal`;
  }
  return undefined;
}

/**
 * Asks Gluster again, after the reads, whether the volume stayed fully healed: if not, a write
 * may have missed the brick that was read, and what was read from it is suspect.
 */
export async function stillHealed(view: BrickView, options: BrickOptions = {}): Promise<string | undefined> {
  const glusterd = options.glusterd ?? defaultGlusterd();
  try {
    return healProblem(view.bricks, await glusterd.healCounts(view.volume, options.signal));
  } catch (err) {
    if (options.signal?.aborted) throw err;
    return `cannot ask for the heal count: ${errorMessage(err)}`;
  }
}

export interface MountEntry {
  /** the directory of the mounted file system that appears at `mountPoint` (`/` unless a bind mount) */
  readonly root: string;
  readonly mountPoint: string;
  readonly fstype: string;
  readonly source: string;
}

/** The mounts of /proc/self/mountinfo (octal escapes decoded). */
export function parseMountinfo(text: string): MountEntry[] {
  const decode = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [, , , root, mountPoint] = left.split(' ');
    const [fstype, source] = right.split(' ');
    if (root && mountPoint && fstype && source !== undefined)
      out.push({ root: decode(root), mountPoint: decode(mountPoint), fstype, source: decode(source) });
  }
  return out;
}

export interface VolumeInfo {
  readonly id: string;
  readonly type: string;
  readonly bricks: readonly { readonly name: string; readonly hostUuid: string; readonly arbiter: boolean }[];
  readonly options: ReadonlyMap<string, string>;
}

/** `gluster volume info <v> --xml` of one volume. */
export function parseVolumeInfo(xml: string): VolumeInfo {
  const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const doc = new XMLParser({ ignoreAttributes: true, parseTagValue: false }).parse(xml) as {
    cliOutput?: { opRet?: string; opErrstr?: string; volInfo?: { volumes?: { volume?: unknown } } };
  };
  const out = doc.cliOutput;
  if (out?.opRet !== '0') throw new Error(`volume info failed: ${out?.opErrstr || 'no cliOutput'}`);
  const volume = list(out.volInfo?.volumes?.volume)[0] as
    | { id?: string; typeStr?: string; bricks?: { brick?: unknown }; options?: { option?: unknown } }
    | undefined;
  if (!volume?.id || !volume.typeStr) throw new Error('volume info lists no volume');
  const bricks = list(volume.bricks?.brick).map((b) => {
    const brick = b as { name?: string; hostUuid?: string; isArbiter?: string };
    if (!brick.name || !brick.hostUuid) throw new Error('volume info lists a brick without name or host');
    return { name: brick.name, hostUuid: brick.hostUuid, arbiter: brick.isArbiter === '1' };
  });
  const options = new Map<string, string>();
  for (const o of list(volume.options?.option)) {
    const option = o as { name?: string; value?: string };
    if (option.name) options.set(option.name, String(option.value ?? ''));
  }
  return { id: volume.id, type: volume.typeStr, bricks, options };
}

/** The first volume of a `volume info` reply dict, as parseVolumeInfo reads the CLI's XML. */
export function volumeInfoFromDict(dict: GlusterDict): VolumeInfo {
  const get = (key: string): string | undefined => dict.get(`volume0.${key}`);
  const id = get('volume_id');
  const type = Number(get('type'));
  const brickCount = Number(get('brick_count'));
  if (!id || !Number.isInteger(type) || !Number.isInteger(brickCount)) throw new Error('volume info lists no volume');
  const bricks = Array.from({ length: brickCount }, (_, i) => {
    const name = get(`brick${i + 1}`);
    const hostUuid = get(`brick${i + 1}.uuid`);
    if (!name || !hostUuid) throw new Error('volume info lists a brick without name or host');
    return { name, hostUuid, arbiter: dict.has(`volume0.brick${i + 1}.isArbiter`) };
  });
  const options = new Map<string, string>();
  for (const [key, value] of dict) if (key.startsWith('volume0.option.')) options.set(key.slice('volume0.option.'.length), value);
  return { id, type: volumeType(type, brickCount, Number(get('dist_count'))), bricks, options };
}

/**
 * The CLI's name of a volume type (GF_CLUSTER_TYPE_*); `dist_count` is the bricks per distribute
 * leg. A layout that cannot be told gets a name of its own, never `Replicate`.
 */
function volumeType(type: number, bricks: number, perLeg: number): string {
  if (!Number.isInteger(perLeg) || perLeg <= 0 || perLeg > bricks) return `type ${type}, layout unknown`;
  const distributed = bricks > perLeg ? 'Distributed-' : '';
  if (type === 0) return 'Distribute';
  if (type === 2) return `${distributed}Replicate`;
  if (type === 4) return `${distributed}Disperse`;
  return `type ${type}`;
}

/**
 * Pending heal entries per brick of a heal-count reply dict; a brick without a count (down), or
 * with a self-heal daemon status besides it, is absent.
 */
export function healCountsFromDict(dict: GlusterDict): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < Number(dict.get('count') ?? 0); i++) {
    const host = dict.get(`${i}-hostname`);
    const path = dict.get(`${i}-path`);
    const count = dict.get(`${i}-hardlinks`);
    if (dict.has(`${i}-shd-status`)) continue;
    if (host && path && count !== undefined && /^\d+$/.test(count)) counts.set(`${host}:${path}`, Number(count));
  }
  return counts;
}

/** Pending heal entries per brick from `volume heal <v> statistics heal-count`; bricks that are down have none. */
export function parseHealCount(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let brick: string | undefined;
  for (const line of text.split('\n')) {
    const b = /^Brick (\S+)\s*$/.exec(line);
    if (b) {
      brick = b[1];
      continue;
    }
    const n = /^Number of entries:\s*(\d+)\s*$/.exec(line);
    if (n && brick) counts.set(brick, Number(n[1]));
  }
  return counts;
}

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
