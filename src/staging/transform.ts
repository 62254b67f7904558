import { type AnonymizeResult, type AnonymizeSpec, anonymize } from './anonymize.js';
import {
  applyOverrides,
  applyTableOverrides,
  type ConfigOverride,
  rewriteBaseUrls,
  type ScopedChange,
  type TableOverride,
} from './config.js';
import { baseTables, columnsOf, type MagentoDatabase } from './database.js';
import { type DefinerChange, rewriteDefiners } from './definers.js';
import { type PreserveResult, type PreserveSpec, preserveFrom } from './preserve.js';
import { type StripResult, stripTables } from './strip.js';

/** Everything that makes a copy of Production a safe Staging, as declared in the config. */
export interface StagingTransforms {
  readonly strip: readonly string[];
  /** Production host → Staging host (lowercase) */
  readonly hosts: Readonly<Record<string, string>>;
  readonly overrides: readonly ConfigOverride[];
  readonly tableOverrides: readonly TableOverride[];
  /** undefined: no anonymisation */
  readonly anonymize?: { readonly spec: AnonymizeSpec; readonly salt: string };
  /** the previous Staging schema to keep values from, when there is one */
  readonly preserve?: { readonly spec: PreserveSpec; readonly previous: string };
  /** the Staging account that owns views, triggers, routines and events */
  readonly definer: { readonly user: string; readonly host: string };
}

export interface TransformReport {
  readonly strip: StripResult;
  readonly baseUrls: readonly ScopedChange[];
  readonly overrides: readonly ScopedChange[];
  readonly tableOverrides: ReadonlyArray<{ readonly table: string; readonly rows: number }>;
  readonly anonymize: AnonymizeResult | null;
  readonly preserve: PreserveResult | null;
  readonly definers: readonly DefinerChange[];
  readonly durationsMs: Readonly<Record<string, number>>;
}

/**
 * Applies the transforms to the copy `schema` in a fixed order: strip (less to rewrite) → base
 * URLs → overrides → anonymise → preserve (Staging's own rows last, so nothing rewrites them) →
 * definers. Any failure leaves `schema` half-transformed: the caller builds it aside and drops
 * it on failure.
 */
export async function applyStagingTransforms(
  db: MagentoDatabase,
  schema: string,
  t: StagingTransforms,
): Promise<TransformReport> {
  const durationsMs: Record<string, number> = {};
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await step();
    } finally {
      durationsMs[name] = Math.round(performance.now() - started);
    }
  };
  const strip = await timed('strip', () => stripTables(db, schema, t.strip));
  const baseUrls = await timed('baseUrls', () => rewriteBaseUrls(db, schema, t.hosts));
  const overrides = await timed('overrides', () => applyOverrides(db, schema, t.overrides));
  const tables = new Set(await baseTables(db, schema));
  const tableOverrides = await timed('tableOverrides', () => applyTableOverrides(db, schema, t.tableOverrides, tables));
  const anonymized = t.anonymize
    ? await timed('anonymize', async () =>
        anonymize(db, schema, t.anonymize?.spec ?? {}, t.anonymize?.salt ?? '', await columnsOf(db, schema)),
      )
    : null;
  const preserved = t.preserve
    ? await timed('preserve', () =>
        preserveFrom(db, schema, t.preserve?.previous ?? '', t.preserve?.spec ?? { tables: [], paths: [] }),
      )
    : null;
  const definers = await timed('definers', () => rewriteDefiners(db, schema, t.definer));
  return { strip, baseUrls, overrides, tableOverrides, anonymize: anonymized, preserve: preserved, definers, durationsMs };
}
