/**
 * V8 flags Lifeboat runs with (the `lifeboat` executable's shebang line carries them; the systemd
 * unit and the benchmarks pass them too). Lifeboat streams gigabytes through small buffers, and
 * V8's default 16 MiB semi-spaces mostly hold garbage; the semi-space size only takes effect at
 * process start, hence a flag. The old space keeps V8's own growth: a 30 % limit we tried started
 * a full GC every ~70 ms while a database streamed (14 instead of 1-2 in a 50 MB benchmark
 * snapshot, +0.5 CPU s of 2 s) and cost an unchanged incremental files scan ~15 % CPU.
 */
export const HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
