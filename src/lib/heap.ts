/**
 * V8 flags Lifeboat runs with (the `lifeboat` executable's shebang line carries them; the systemd
 * unit and the benchmark pass them too). Lifeboat streams gigabytes through small buffers, and
 * V8's defaults (16 MiB semi-spaces, old space allowed to grow up to 4x before a full GC) mostly
 * hold garbage: on the files benchmark the first snapshot peaked at 266-286 MB RSS with the
 * defaults, 251-259 MB with the semi-space flag alone and 223-249 MB with both, at the same
 * speed. The semi-space size only takes effect at process start, hence flags.
 */
export const HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=30'];
