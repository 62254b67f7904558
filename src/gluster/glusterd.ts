import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../lib/child-process.js';
import { AbortedError, errorMessage } from '../lib/errors.js';
import { healCountsFromDict, parseHealCount } from './heal.js';
import { CliProc, callGlusterd, GLUSTERD_SOCKET } from './rpc.js';
import { parseVolumeInfo, type VolumeInfo, volumeInfoFromDict } from './volume.js';

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

/** deadline of one gluster CLI (or getfattr) process */
export const CLI_TIMEOUT_MS = 30_000;

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

/** The two things recovery asks glusterd to do, both idempotent: start a volume's dead bricks, start a heal. */
export interface GlusterAdmin {
  /** `volume start <v> force`: starts the bricks (and self-heal daemon) that are not running; running ones are left alone */
  startDeadBricks(volume: string, signal?: AbortSignal): Promise<void>;
  /** `volume heal <v>`: an index heal now, instead of at the self-heal daemon's next crawl */
  heal(volume: string, signal?: AbortSignal): Promise<void>;
  /**
   * `volume reset-brick <v> <brick> start`, then `… <brick> <brick> commit force`: the brick
   * (an empty directory: a replaced disk) becomes a member again, and a full heal fills it from its replicas
   */
  resetBrick(volume: string, brick: string, signal?: AbortSignal): Promise<void>;
}

export function cliGlusterAdmin(gluster: GlusterCli = glusterCli): GlusterAdmin {
  const cli: GlusterCli = (args, signal) => whileBusy(() => gluster(args, signal), signal);
  return {
    startDeadBricks: async (volume, signal) => {
      await cli(['volume', 'start', volume, 'force'], signal);
    },
    heal: async (volume, signal) => {
      await cli(['volume', 'heal', volume], signal);
    },
    resetBrick: async (volume, brick, signal) => {
      // `start` fails on a brick that is already down; `commit force` is what matters
      await cli(['volume', 'reset-brick', volume, brick, 'start'], signal).catch(() => '');
      await cli(['volume', 'reset-brick', volume, brick, brick, 'commit', 'force'], signal);
      await cli(['volume', 'heal', volume, 'full'], signal);
    },
  };
}

/** glusterd asked on its socket (a few milliseconds each): the call the CLI makes, its reply read as the CLI reads it. */
export function rpcGlusterd(socket = GLUSTERD_SOCKET): Glusterd {
  const ask = async (proc: number, what: string, dict: Record<string, string>, signal?: AbortSignal) => {
    const once = async () => {
      const reply = await callGlusterd(proc, new Map(Object.entries(dict)), { socket, signal });
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
      await sleep(wait, undefined, { signal }).catch((cause: unknown) => {
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
