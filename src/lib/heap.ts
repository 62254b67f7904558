/**
 * V8 flags Lifeboat runs with (the `lifeboat` executable's shebang line carries them; the systemd
 * unit and the benchmark pass them too). Lifeboat streams gigabytes through small buffers, and
 * V8's defaults (16 MiB semi-spaces, old space allowed to grow up to 4x before a full GC) mostly
 * hold garbage: on the files benchmark the first snapshot peaked at 266-286 MB RSS with the
 * defaults and at 223-249 MB with these, at the same speed; an incremental snapshot of the same
 * tree is up to ~5 % slower, within its run-to-run noise. They only take effect at process start, hence
 * flags rather than `v8.setFlagsFromString`.
 */
export const HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=30'];
