import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/load.js';
import { restoreFiles } from '../../restore/files.js';
import type { Plan } from '../../restore/recovery-plan.js';
import { type LocalVolume, planVolume, type VolumeFacts } from '../../restore/volume-recovery.js';
import { filesPartOf } from '../files/part.js';
import { cliGlusterAdmin, defaultGlusterd, mountedVolume } from '../gluster/index.js';
import type { Logger } from '../lib/logger.js';
import { withDeadline } from '../lib/time.js';
import type { Repository } from '../repo/repository.js';
import { newestVerified } from '../repo/verification.js';

/** The GlusterFS volume mounted at files.root, as recovery acts on it; undefined when files.root is not on one. */
export async function openLocalVolume(config: Config, repo: Repository, logger: Logger): Promise<LocalVolume | undefined> {
  if (config.files.areas.length === 0) return undefined;
  const mounted = await withDeadline(mountedVolume(config.files.root), 10_000).catch(() => undefined);
  if (mounted === undefined || typeof mounted === 'string') return undefined;
  const name = mounted.volume;
  const glusterd = defaultGlusterd();
  const admin = cliGlusterAdmin();
  return {
    name,
    bricks: async (signal) => {
      const [info, heal, self] = await Promise.all([
        glusterd.volumeInfo(name, signal),
        glusterd.healCounts(name, signal),
        glusterd.hostUuid(signal),
      ]);
      return Promise.all(
        info.bricks.map(async (b) => {
          const pending = heal.get(b.name) ?? null;
          // a brick of this host that is down: is its directory still a brick?
          const path = b.name.slice(b.name.indexOf(':') + 1);
          const blank =
            pending === null &&
            b.hostUuid === self &&
            !(await stat(join(path, '.glusterfs')).then(
              () => true,
              () => false,
            ));
          return { name: b.name, pending, ...(blank ? { blank } : {}) };
        }),
      );
    },
    startDeadBricks: (signal) => admin.startDeadBricks(name, signal),
    heal: (signal) => admin.heal(name, signal),
    resetBrick: (brick, signal) => admin.resetBrick(name, brick, signal),
    restoreArea: async (area, snapshot, signal) => {
      const a = config.files.areas.find((x) => x.name === area);
      if (!a) throw new Error(`area '${area}' is not in files.areas`);
      // never forced: an area that holds anything is refused (ConflictError), nothing is overwritten
      const r = await restoreFiles({
        repo,
        manifest: await repo.resolve(snapshot),
        area,
        target: join(config.files.root, a.path ?? a.name),
        logger,
        ...(signal ? { signal } : {}),
      });
      return { files: r.files, bytes: r.bytes };
    },
  };
}

/** What the volume planner needs: the bricks, which areas are empty on the mount, and the newest verified snapshot with files. */
export async function volumeFacts(
  config: Config,
  volume: LocalVolume,
  snapshot: () => Promise<VolumeFacts['snapshot']>,
): Promise<VolumeFacts> {
  const [bricks, areas] = await Promise.all([
    volume.bricks(),
    Promise.all(
      config.files.areas.map(async (a) => ({ name: a.name, empty: await isEmpty(join(config.files.root, a.path ?? a.name)) })),
    ),
  ]);
  // the snapshot matters only to an empty area: looked up then, not on every evaluation
  return { volume: volume.name, bricks, areas, snapshot: areas.some((a) => a.empty) ? await snapshot() : null };
}

/** Missing, or nothing but a restore's hidden work directories; a directory that cannot be read is not empty. */
async function isEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).every((n) => n.startsWith('.lifeboat-'));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The newest snapshot `lifeboat verify` read back whole that has files, with its file count per area. */
export async function filesSnapshot(repo: Repository): Promise<VolumeFacts['snapshot']> {
  const m = await newestVerified(repo, (x) => filesPartOf(x) !== undefined);
  const part = m && filesPartOf(m);
  if (!m || !part) return null;
  return { id: m.id, takenAt: part.finishedAt, files: Object.fromEntries(part.areas.map((a) => [a.name, a.files])) };
}

/** The volume's plan for the daemon and the CLI: facts asked now, the snapshot looked up only for an empty area. */
export function volumePlanner(config: Config, volume: LocalVolume, repo: Repository): (driver: string) => Promise<Plan> {
  // kept a minute; "none" only a few seconds (a snapshot verified just now counts soon)
  let cached: { until: number; value: Promise<VolumeFacts['snapshot']> } | undefined;
  const snapshot = (): Promise<VolumeFacts['snapshot']> => {
    if (!cached || Date.now() > cached.until) {
      const value = filesSnapshot(repo).catch(() => null);
      const entry = { until: Date.now() + 60_000, value };
      void value.then((v) => {
        if (v === null) entry.until = Date.now() + 5000;
      });
      cached = entry;
    }
    return cached.value;
  };
  // a hung mount must not pile up readers: one look at a time, and the callers' deadline
  let inflight: Promise<VolumeFacts> | undefined;
  return async (driver) => {
    inflight ??= volumeFacts(config, volume, snapshot).finally(() => {
      inflight = undefined;
    });
    return planVolume(await inflight, driver);
  };
}
