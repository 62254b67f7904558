import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import { defaultGlusterd, type Glusterd } from './glusterd.js';
import { healProblem } from './heal.js';
import type { XattrReader } from './xattrs.js';

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
    const mounted = await mountedVolume(dir, options.mountinfo);
    if (typeof mounted === 'string') return mount(mounted);
    const { volume, subdir, rel } = mounted;

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

/** Where `dir` lies on a GlusterFS FUSE mount: the volume, the volume's directory mounted there, and `dir` below it; or why it is not on one. */
export async function mountedVolume(
  dir: string,
  mountinfo?: string,
): Promise<{ readonly volume: string; readonly subdir: string; readonly rel: string } | string> {
  const real = await realpath(dir);
  const mounts = parseMountinfo(mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8')));
  // the deepest mount holding `dir`; of mounts stacked on one point, the last (visible) one
  const under = mounts
    .map((m, order) => ({ m, order }))
    .filter(({ m }) => real === m.mountPoint || real.startsWith(m.mountPoint === '/' ? '/' : `${m.mountPoint}/`))
    .sort((a, b) => b.m.mountPoint.length - a.m.mountPoint.length || b.order - a.order)[0]?.m;
  if (under?.fstype !== 'fuse.glusterfs') return 'not on a GlusterFS mount';
  const source = /^[^:]+:\/?([^/]+)(\/.*)?$/.exec(under.source);
  if (!source?.[1]) return `cannot parse the mount source '${under.source}'`;
  // a subdirectory mount (`host:/vol/sub`) and a bind mount of part of the volume (mountinfo root)
  const subdir = join(source[2] ?? '', under.root)
    .replace(/^\/+|\/+$/g, '')
    .replace(/^\.$/, '');
  return { volume: source[1], subdir, rel: real.slice(under.mountPoint.length).replace(/^\/+/, '') };
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

export interface MountinfoEntry {
  /** the directory of the mounted file system that appears at `mountPoint` (`/` unless a bind mount) */
  readonly root: string;
  readonly mountPoint: string;
  readonly fstype: string;
  readonly source: string;
}

/** The mounts of /proc/self/mountinfo (octal escapes decoded). */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const decode = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  const out: MountinfoEntry[] = [];
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
