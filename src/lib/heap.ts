import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags Lifeboat runs with (the `lifeboat` executable's shebang line carries them; the systemd
 * unit and the benchmark pass them too). Lifeboat streams gigabytes through small buffers, and
 * V8's defaults (16 MiB semi-spaces, old space allowed to grow up to 4x before a full GC) mostly
 * hold garbage: on the files benchmark the first snapshot peaked at 266-286 MB RSS with the
 * defaults, 251-259 MB with the semi-space flag alone and 223-249 MB with both, at the same
 * speed. The semi-space size only takes effect at process start, hence flags; the growth limit
 * can change while running (relaxedHeapGrowth).
 */
export const HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=30'];

const GROWTH_FLAG = '--heap-growing-percent=';

/**
 * Lets V8 pick the old space's growth itself until the returned function is called, for phases
 * that build large long-lived structures rather than stream (an incremental files snapshot's scan
 * holds the previous file lists): under the tight limit of HEAP_FLAGS V8 would mark that live data
 * again at every step of its growth (~50 ms of a 1.2 s incremental snapshot). The limit V8 picks
 * meanwhile holds until its next full GC, so streaming right after peaks higher (+20 MB when a
 * first snapshot's walk was relaxed). Nested and concurrent callers share the relaxation; the
 * process's start value comes back after the last.
 */
export const relaxedHeapGrowth: () => () => void = growthRelaxer(
  process.execArgv.findLast((a) => a.startsWith(GROWTH_FLAG)),
  setFlagsFromString,
);

/** relaxedHeapGrowth for a start flag (undefined: none, nothing to relax) and a flag setter. */
export function growthRelaxer(start: string | undefined, setFlag: (flag: string) => void): () => () => void {
  let relaxed = 0;
  return () => {
    if (start === undefined) return () => {};
    if (relaxed++ === 0) setFlag(`${GROWTH_FLAG}0`);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--relaxed === 0) setFlag(start);
    };
  };
}
