/**
 * SQL text building for bulk loads: literal escaping and multi-row INSERT
 * batching. Output is meant for the `mariadb` command-line client with the
 * session's sql_mode NOT containing NO_BACKSLASH_ESCAPES.
 */

export type SqlValue = string | number | null;

/** Destination for complete SQL statements; resolves when it can take more. */
export interface SqlSink {
  write(sql: string): Promise<void>;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and Ctrl-Z must be escaped for the mariadb client.
const NEEDS_ESCAPE = /[\0\n\r\\'"\x1a]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const ESCAPABLE = /[\0\n\r\\'"\x1a]/g;
const ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\x1a': '\\Z',
};

/** SQL literal for a value: NULL, a number as-is, or a quoted, escaped string. */
export function lit(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`lit: non-finite number ${value}`);
    return String(value);
  }
  if (!NEEDS_ESCAPE.test(value)) return `'${value}'`;
  return `'${value.replace(ESCAPABLE, (c) => ESCAPES[c] ?? c)}'`;
}

/** Money/quantity with 4 decimals, as Magento stores decimal(20,4). */
export function dec4(value: number): string {
  return value.toFixed(4);
}

/** Accumulates rows of one table into INSERT statements of at most `maxBytes` characters. */
export class TableBatch {
  /** Rows accepted so far (flushed or not). */
  count = 0;
  private rows: string[] = [];
  private size = 0;
  private readonly head: string;

  constructor(
    readonly table: string,
    columns: readonly string[],
    private readonly maxBytes: number,
  ) {
    this.head = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(',')}) VALUES\n`;
  }

  /** Adds one row (values in column order); returns true once the batch is full. */
  add(values: readonly SqlValue[]): boolean {
    let tuple = '(';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) tuple += ',';
      tuple += lit(values[i] ?? null);
    }
    tuple += ')';
    this.rows.push(tuple);
    this.size += tuple.length + 2;
    this.count++;
    return this.head.length + this.size >= this.maxBytes;
  }

  /** The pending rows as one statement (and forgets them), or null if none are pending. */
  take(): string | null {
    if (this.rows.length === 0) return null;
    const sql = `${this.head}${this.rows.join(',\n')};\n`;
    this.rows = [];
    this.size = 0;
    return sql;
  }
}

/**
 * Tables that reference each other, flushed together in declaration order
 * (parents first), so every statement only references rows already sent.
 * Each statement is its own autocommit transaction of at most maxBytes.
 */
export class BatchGroup {
  private readonly batches: TableBatch[] = [];
  private full = false;

  constructor(
    private readonly sink: SqlSink,
    private readonly maxBytes: number,
  ) {}

  /** Declares a table; declare parents before children. */
  table(name: string, columns: readonly string[]): TableBatch {
    const batch = new TableBatch(name, columns, this.maxBytes);
    this.batches.push(batch);
    return batch;
  }

  /** Queues a row; it is sent by a later flushIfFull() or flush(). */
  add(batch: TableBatch, values: readonly SqlValue[]): void {
    if (batch.add(values)) this.full = true;
  }

  /** Sends all pending rows if any table reached the statement size. */
  async flushIfFull(): Promise<void> {
    if (this.full) await this.flush();
  }

  /** Sends all pending rows, parents first. */
  async flush(): Promise<void> {
    this.full = false;
    for (const batch of this.batches) {
      const sql = batch.take();
      if (sql !== null) await this.sink.write(sql);
    }
  }

  /** Row counts per table. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const b of this.batches) out[b.table] = b.count;
    return out;
  }
}
