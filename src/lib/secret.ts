import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A resolved secret. It prints as `[redacted]` everywhere (String, JSON, util.inspect, logs);
 * only `reveal()` returns the value, at the point of use.
 */
export class Secret {
  readonly #value: string;
  /** where it came from, e.g. `env LIFEBOAT_S3_SECRET` or `file /etc/lifeboat/s3` (safe to print) */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return `${REDACTED} (${this.source})`;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}
