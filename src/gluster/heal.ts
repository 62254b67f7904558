import type { GlusterDict } from './rpc.js';

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
