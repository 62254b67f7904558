import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, PermanentError } from '../src/lib/errors.js';
import type { Plan, PlanStep } from './recovery-plan.js';

/**
 * The GlusterFS side of recovery (issue #17): a pure decision from what the volume looks like
 * to a plan in the same shape as the database's (so the same executor, audit records, alerts and
 * CLI run it), and the steps that carry it out. A brick that does not answer is started again and
 * the volume watched until it has healed — both harmless when nothing is wrong, so the daemon
 * does it by itself. A file area that is empty on the volume while the newest verified snapshot
 * holds files for it is restored from that snapshot — only on an operator's word (`lifeboat
 * recover --execute --yes`), because Magento empties some areas itself (a static-content deploy
 * clears `pub/static`, `cache:flush` parts of `var`), and only into an empty area: a restore
 * never overwrites what the volume holds.
 */

/** The volume as the planner sees it. */
export interface VolumeFacts {
  /** the volume mounted at files.root */
  readonly volume: string;
  /** every brick (`host:/path`) and its pending heal entries; null: it does not answer (down) */
  readonly bricks: readonly BrickState[];
  /** each configured area as the mount shows it: `empty` (no entry at all), or not */
  readonly areas: readonly { readonly name: string; readonly empty: boolean }[];
  /** the newest verified snapshot with files, and how many files it holds per area */
  readonly snapshot: { readonly id: string; readonly takenAt: string; readonly files: Readonly<Record<string, number>> } | null;
}

export interface BrickState {
  readonly name: string;
  readonly pending: number | null;
  /** a brick of this host whose directory holds no `.glusterfs` (never set up, or emptied: a replaced disk) */
  readonly blank?: boolean;
}

/** The volume's plan; its steps are `node`'s (whoever drives the volume's recovery). */
export function planVolume(facts: VolumeFacts, node: string): Plan {
  const lines = [
    `volume ${facts.volume}: ${facts.bricks.map((b) => `${b.name} ${b.pending === null ? 'DOWN' : `${b.pending} pending heal`}`).join(', ')}`,
    ...facts.areas.map(
      (a) =>
        `area ${a.name}: ${a.empty ? 'EMPTY on the volume' : 'has entries'}${facts.snapshot ? `, ${facts.snapshot.files[a.name] ?? 0} files in the snapshot` : ''}`,
    ),
    ...(facts.snapshot
      ? [`newest verified snapshot with files ${facts.snapshot.id} (${facts.snapshot.takenAt})`]
      : facts.areas.some((a) => a.empty)
        ? ['no verified snapshot with files']
        : []),
  ];
  const plan = (playbook: Plan['playbook'], decision: string, steps: PlanStep[] = [], dataLoss: string | null = null): Plan => ({
    playbook,
    decision,
    steps,
    facts: lines,
    dataLoss,
  });
  const down = facts.bricks.filter((b) => b.pending === null);
  const blank = down.filter((b) => b.blank);
  if (blank.length > 0)
    // glusterd refuses to start a brick without its volume id exactly so that an unmounted disk is
    // never filled by mistake: only an operator can say the empty directory is the new disk
    return plan(
      'reset-brick',
      `${blank.map((b) => b.name).join(', ')} down with an empty directory (a replaced disk?): reset it and heal it in full (asked of an operator: an unmounted disk looks the same)`,
      [
        ...blank.map((b) => ({
          node,
          action: 'reset-brick' as const,
          brick: b.name,
          why: `gluster volume reset-brick ${facts.volume} ${b.name} commit force, then heal full`,
        })),
        { node, action: 'heal', why: 'the brick is filled from its replicas; watched until none is pending' },
      ],
    );
  if (down.length > 0)
    return plan('restart-bricks', `${down.map((b) => b.name).join(', ')} not answering: start it again and watch the heal`, [
      { node, action: 'start-bricks', why: `gluster volume start ${facts.volume} force starts only the bricks that are down` },
      { node, action: 'heal', why: 'the writes the brick missed are healed from its replicas; watched until none is pending' },
    ]);
  const snapshot = facts.snapshot;
  const emptied = facts.areas.filter((a) => a.empty && (snapshot?.files[a.name] ?? 0) > 0);
  if (snapshot && emptied.length > 0)
    return plan(
      'restore-areas',
      `${emptied.map((a) => a.name).join(', ')} empty on the volume: restore from snapshot ${snapshot.id} (asked of an operator: Magento empties some areas itself)`,
      emptied.map((a) => ({
        node,
        action: 'restore-area' as const,
        area: a.name,
        snapshotId: snapshot.id,
        why: `${snapshot.files[a.name]} files into the empty area; never over existing entries`,
      })),
      `files written to ${emptied.map((a) => a.name).join(', ')} after the snapshot (${snapshot.takenAt}) cannot come back`,
    );
  const healing = facts.bricks.filter((b) => (b.pending ?? 0) > 0);
  if (healing.length > 0)
    return plan(
      'none',
      `every brick answers; the self-heal daemon is healing ${healing.map((b) => `${b.name} (${b.pending})`).join(', ')}`,
    );
  return plan('none', 'the volume is whole: every brick answers, nothing pending heal, no area empty');
}

/** This node's access to the volume, as the steps act on it. */
export interface LocalVolume {
  readonly name: string;
  bricks(signal?: AbortSignal): Promise<readonly BrickState[]>;
  startDeadBricks(signal?: AbortSignal): Promise<void>;
  heal(signal?: AbortSignal): Promise<void>;
  /** makes an emptied brick a member again and starts a full heal */
  resetBrick(brick: string, signal?: AbortSignal): Promise<void>;
  /** restores the snapshot's area into its (empty) directory on the volume */
  restoreArea(area: string, snapshot: string, signal?: AbortSignal): Promise<{ readonly files: number; readonly bytes: number }>;
}

export interface VolumeStepOptions {
  readonly signal?: AbortSignal;
  /** how long the bricks may take to answer again (default 120 s) */
  readonly startMs?: number;
  /** how long the heal may take (default 30 min) */
  readonly healMs?: number;
  /** between polls (default 2 s) */
  readonly pollMs?: number;
}

/** Runs one volume step; each first checks whether its effect is there already. */
export async function runVolumeStep(
  step: PlanStep,
  volume: LocalVolume,
  options: VolumeStepOptions = {},
): Promise<{ skipped: boolean; detail: string }> {
  const { signal } = options;
  const poll = options.pollMs ?? 2000;
  const wait = (): Promise<void> => sleep(poll, undefined, signal ? { signal } : {});
  const down = (bricks: readonly BrickState[]): string[] => bricks.filter((b) => b.pending === null).map((b) => b.name);
  switch (step.action) {
    case 'start-bricks': {
      if (down(await volume.bricks(signal)).length === 0) return { skipped: true, detail: 'every brick answers' };
      const until = Date.now() + (options.startMs ?? 120_000);
      let lastError = '';
      // glusterd may still count a brick that died a moment ago as running: asked again until it answers
      for (;;) {
        await volume.startDeadBricks(signal).catch((err: unknown) => {
          lastError = `; last start: ${errorMessage(err)}`;
        });
        await wait();
        const still = down(await volume.bricks(signal));
        if (still.length === 0) return { skipped: false, detail: 'every brick answers again' };
        if (Date.now() > until)
          throw new PermanentError(
            `${still.join(', ')} still not answering after ${(options.startMs ?? 120_000) / 1000} s${lastError}`,
          );
      }
    }
    case 'heal': {
      const t0 = Date.now();
      const pendingOf = (bricks: readonly BrickState[]): number => bricks.reduce((n, b) => n + (b.pending ?? 0), 0);
      let bricks = await volume.bricks(signal);
      const before = pendingOf(bricks);
      if (before === 0 && down(bricks).length === 0) return { skipped: true, detail: 'nothing pending heal' };
      // the self-heal daemon heals by itself; asking now only saves its next crawl (a refusal changes nothing)
      await volume.heal(signal).catch(() => {});
      const until = t0 + (options.healMs ?? 30 * 60_000);
      while (pendingOf(bricks) > 0 || down(bricks).length > 0) {
        if (Date.now() > until)
          throw new PermanentError(
            `not healed after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${bricks.map((b) => `${b.name} ${b.pending ?? 'down'}`).join(', ')}`,
          );
        await wait();
        bricks = await volume.bricks(signal);
      }
      return {
        skipped: false,
        detail: `healed: ${before} entries pending at the start, none after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      };
    }
    case 'reset-brick': {
      const brick = step.brick;
      if (!brick) throw new PermanentError('reset-brick: the plan names no brick');
      const answers = async (): Promise<boolean> =>
        (await volume.bricks(signal)).some((b) => b.name === brick && b.pending !== null);
      if (await answers()) return { skipped: true, detail: `${brick} answers` };
      await volume.resetBrick(brick, signal);
      const until = Date.now() + (options.startMs ?? 120_000);
      while (!(await answers())) {
        if (Date.now() > until)
          throw new PermanentError(`${brick} reset, but not answering after ${(options.startMs ?? 120_000) / 1000} s`);
        await wait();
      }
      return { skipped: false, detail: `${brick} reset and answering; a full heal started` };
    }
    case 'restore-area': {
      if (!step.area || !step.snapshotId) throw new PermanentError('restore-area: the plan names no area or snapshot');
      const r = await volume.restoreArea(step.area, step.snapshotId, signal);
      return {
        skipped: false,
        detail: `restored ${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB) of ${step.area} from ${step.snapshotId}`,
      };
    }
    default:
      throw new PermanentError(`${step.action} is not a volume step`);
  }
}
