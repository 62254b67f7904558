/**
 * Progress seam: long operations report what they do; the CLI renders a bar or JSON lines,
 * the daemon exposes it through the job API. Implementations must be cheap: `advance` is called
 * per chunk.
 */
export interface Progress {
  /** A new phase begins; `total` is in `unit`s when known. */
  phase(name: string, total?: number, unit?: 'bytes' | 'files' | 'objects'): void;
  advance(amount: number): void;
  /** The current phase ended. */
  done(): void;
}

const noop = (): void => {};

export const nullProgress: Progress = { phase: noop, advance: noop, done: noop };
