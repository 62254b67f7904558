/**
 * The recovery decision (issue #17, groundwork): a pure function from what the daemons know of
 * every node to the playbook that is safe now, with the facts it rests on, for `lifeboat recover
 * --plan` and for the daemon's automatic recovery. It never runs anything. Every rule prefers
 * doing nothing (and saying why) over acting on a doubtful verdict: a partition, a minority
 * observer, an unconfirmed loss or nodes of different cluster histories are never acted on.
 */

/** One node as the planner sees it, from the detector's verdicts and the node's own report. */
export interface NodeFacts {
  readonly name: string;
  /** the verdict every surviving observer agrees on (`lost` only when the witness agrees too) */
  readonly verdict: 'healthy' | 'suspect' | 'lost' | 'partitioned' | 'recovering';
  /** its `mariadbd` answers SQL */
  readonly running: boolean;
  /** `Primary` / `non-Primary` when running */
  readonly component?: 'Primary' | 'non-Primary';
  /** the node's Galera position: live (`wsrep_last_committed`) or recovered (`--wsrep-recover`); null when its datadir is gone or empty */
  readonly position: { readonly uuid: string; readonly seqno: number } | null;
  /** its daemon found its datadir empty (a replacement server): nothing there to lose */
  readonly emptyDatadir?: boolean;
}

export interface PlanInput {
  /** the nodes in preferred order (ties in position go to the earlier one) */
  readonly nodes: readonly NodeFacts[];
  /** the observer the plan is made by is the minority of a partition */
  readonly minority: boolean;
  /** the newest verified snapshot, for seeding or rebuilding */
  readonly snapshot: SeedSnapshot | null;
}

export interface SeedSnapshot {
  readonly id: string;
  readonly takenAt: string;
  readonly uuid: string;
  readonly seqno: number;
}

export type Playbook =
  | 'none'
  | 'rejoin' // a lost node is back with its datadir: start it, it catches up by IST
  | 'seed-from-snapshot' // a replacement node without a usable datadir: restore the snapshot into it, join by IST
  | 'bootstrap-survivor' // quorum lost, the loss confirmed: pc.bootstrap on the survivor
  | 'bootstrap-most-advanced' // the whole cluster down, datadirs intact: the highest seqno bootstraps, the others join
  | 'new-cluster-from-snapshot' // the whole cluster down, no datadir: bootstrap from the snapshot, report the loss window
  | 'restart-bricks' // a GlusterFS brick down: start it again, watch the heal (restore/volume-recovery.ts)
  | 'reset-brick' // a brick down whose directory is empty (a replaced disk): reset it, heal it full (an operator's word)
  | 'restore-areas'; // a file area emptied on the volume: restore it from the snapshot (an operator's word)

export interface PlanStep {
  readonly node: string;
  readonly action:
    | 'start'
    | 'start-with-position'
    | 'bootstrap'
    | 'pc-bootstrap'
    | 'restore-snapshot'
    | 'restore-new-cluster'
    | 'start-bricks'
    | 'heal'
    | 'reset-brick'
    | 'restore-area';
  readonly why: string;
  /** runs only once this node is Primary (its step comes first): until then the step waits */
  readonly after?: string;
  /** the snapshot a database restore step restores */
  readonly snapshot?: SeedSnapshot;
  /** the file area a restore-area step restores, and the snapshot it restores it from */
  readonly area?: string;
  readonly snapshotId?: string;
  /** the GlusterFS brick (`host:/path`) a reset-brick step resets */
  readonly brick?: string;
}

export interface Plan {
  readonly playbook: Playbook;
  /** one line: what and why (or why nothing) */
  readonly decision: string;
  readonly steps: readonly PlanStep[];
  /** the facts the decision rests on, one per line */
  readonly facts: readonly string[];
  /** data that cannot come back, when the plan rebuilds from a snapshot */
  readonly dataLoss: string | null;
}

function describe(n: NodeFacts): string {
  const pos = n.position
    ? `${n.position.uuid}:${n.position.seqno}`
    : n.emptyDatadir
      ? 'empty datadir'
      : 'datadir position not known';
  return `${n.name}: ${n.verdict}, ${n.running ? `running (${n.component ?? 'state unknown'})` : 'not running'}, ${pos}`;
}

/** The playbook that is safe for `input`, with its steps; `none` explains what it waits for. */
export function planRecovery(input: PlanInput): Plan {
  const facts = [
    ...input.nodes.map(describe),
    input.snapshot
      ? `newest verified snapshot ${input.snapshot.id} at ${input.snapshot.uuid}:${input.snapshot.seqno} (${input.snapshot.takenAt})`
      : 'no verified snapshot',
    ...(input.minority ? ['this observer is the minority of a partition'] : []),
  ];
  const plan = (playbook: Playbook, decision: string, steps: PlanStep[] = [], dataLoss: string | null = null): Plan => ({
    playbook,
    decision,
    steps,
    facts,
    dataLoss,
  });
  if (input.minority) return plan('none', 'this node is the minority of a partition: it never acts on its verdicts');
  const partitioned = input.nodes.filter((n) => n.verdict === 'partitioned');
  if (partitioned.length)
    return plan(
      'none',
      `${partitioned.map((n) => n.name).join(', ')} partitioned, not lost: alive elsewhere, nothing to recover (alert only)`,
    );
  const unsure = input.nodes.filter((n) => n.verdict === 'suspect' || n.verdict === 'recovering');
  if (unsure.length) return plan('none', `${unsure.map((n) => n.name).join(', ')} not confirmed yet: waiting for a verdict`);

  const primary = input.nodes.filter((n) => n.running && n.component === 'Primary');
  const lost = input.nodes.filter((n) => n.verdict === 'lost');
  const running = input.nodes.filter((n) => n.running);
  const uuids = new Set(input.nodes.flatMap((n) => (n.position ? [n.position.uuid] : [])));
  if (uuids.size > 1)
    return plan('none', `the nodes hold different cluster histories (${[...uuids].join(', ')}): an operator must choose`);

  // a Primary component exists: lost nodes come back one by one
  if (primary.length > 0) {
    if (lost.length === 0) {
      const down = input.nodes.filter((n) => !n.running);
      if (down.length === 0) return plan('none', 'every node is healthy');
      const node = down[0] as NodeFacts;
      if (node.position)
        return plan('rejoin', `${node.name} is reachable again with its datadir: start it, it catches up by IST`, [
          { node: node.name, action: 'start-with-position', why: 'its recovered position lets a donor send IST' },
        ]);
      if (node.emptyDatadir) return seed(node, input, plan);
      // Lifeboat never replaces data it cannot place: a datadir is seeded only once it is empty
      return plan(
        'none',
        `${node.name} is down and the position of its datadir is not known yet: waiting (a damaged datadir is never replaced automatically: move it aside, and ${node.name}'s daemon seeds the empty one from the newest verified snapshot)`,
      );
    }
    return plan('none', `${lost.map((n) => n.name).join(', ')} lost: waiting for it to return or be replaced`);
  }

  // no Primary component
  if (running.length > 0) {
    // the survivors are non-Primary: quorum lost; bootstrap only when the others' loss is confirmed
    if (lost.length + running.length !== input.nodes.length)
      return plan('none', 'quorum lost, but not every other node is confirmed lost: no bootstrap');
    const survivor = mostAdvanced(running);
    return plan(
      'bootstrap-survivor',
      `quorum lost with ${lost.map((n) => n.name).join(', ')} confirmed lost: ${survivor.name} becomes Primary`,
      [
        {
          node: survivor.name,
          action: 'pc-bootstrap',
          why: "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES' on the most advanced survivor",
        },
      ],
    );
  }

  // nothing runs: the whole cluster is down
  const withData = input.nodes.filter((n) => n.position && n.position.seqno >= 0);
  if (withData.length === input.nodes.length) {
    const first = mostAdvanced(withData);
    return plan(
      'bootstrap-most-advanced',
      `the whole cluster is down with its datadirs: ${first.name} (seqno ${first.position?.seqno}) bootstraps, the others join by IST`,
      [
        { node: first.name, action: 'bootstrap', why: 'the highest recovered seqno: no acknowledged commit is lost' },
        ...withData
          .filter((n) => n !== first)
          .map((n) => ({
            node: n.name,
            action: 'start-with-position' as const,
            why: 'IST from the bootstrapped node (the rejoin playbook, one node at a time)',
            after: first.name,
          })),
      ],
    );
  }
  if (withData.length > 0)
    return plan(
      'none',
      `the whole cluster is down and only ${withData.map((n) => n.name).join(', ')} kept a position: an operator must confirm the others are gone`,
    );
  const unknown = input.nodes.filter((n) => !n.emptyDatadir);
  if (unknown.length > 0)
    return plan(
      'none',
      `the whole cluster is down and the datadir positions of ${unknown.map((n) => n.name).join(', ')} are not known yet: waiting`,
    );
  if (!input.snapshot) return plan('none', 'the whole cluster is down, no datadir survived and there is no verified snapshot');
  const snapshot = input.snapshot;
  const [first, ...others] = input.nodes as [NodeFacts, ...NodeFacts[]];
  return plan(
    'new-cluster-from-snapshot',
    `the whole cluster is down and no datadir survived: rebuild from snapshot ${input.snapshot.id}`,
    [
      {
        node: first.name,
        action: 'restore-new-cluster',
        why: 'bootstraps from the snapshot (lifeboat restore db --new-cluster)',
        snapshot,
      },
      ...others.flatMap((n) => [
        {
          node: n.name,
          action: 'restore-snapshot' as const,
          why: 'seeded from the same snapshot, so that it joins by IST',
          snapshot,
          after: first.name,
        },
        { node: n.name, action: 'start-with-position' as const, why: `IST from ${first.name}`, after: first.name },
      ]),
    ],
    `everything committed after the snapshot (${input.snapshot.takenAt}, seqno ${input.snapshot.seqno}) is lost`,
  );
}

function seed(node: NodeFacts, input: PlanInput, plan: (p: Playbook, d: string, s?: PlanStep[]) => Plan): Plan {
  if (!input.snapshot)
    return plan('none', `${node.name} has no datadir and there is no verified snapshot: it can only join by full SST`);
  return plan(
    'seed-from-snapshot',
    `${node.name} has no usable datadir: seed it from snapshot ${input.snapshot.id}, join by IST`,
    [
      {
        node: node.name,
        action: 'restore-snapshot',
        why: "grastate.dat from the snapshot's position, safe_to_bootstrap: 0; skipped when no donor's gcache covers it (SST then)",
        snapshot: input.snapshot,
      },
      {
        node: node.name,
        action: 'start-with-position',
        why: "IST from a donor whose gcache still covers the snapshot's position (else SST)",
      },
    ],
  );
}

/** The node with the highest seqno; a tie goes to the earlier one in preferred order. */
function mostAdvanced(nodes: readonly NodeFacts[]): NodeFacts {
  return nodes.reduce((best, n) => ((n.position?.seqno ?? -1) > (best.position?.seqno ?? -1) ? n : best));
}
