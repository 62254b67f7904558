import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs from dist/test/helpers). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function testbedDir(): string {
  return process.env.LIFEBOAT_TESTBED_DIR ?? join(repoRoot, '.testbed');
}

let cached: Record<string, string> | undefined;

/**
 * The running testbed's facts (test/testbed/testbed.sh writes them). Integration tests need the
 * real servers: a missing testbed is an error, never a skip.
 */
export function testbedEnv(): Record<string, string> {
  if (cached) return cached;
  const file = join(testbedDir(), 'env');
  if (!existsSync(file)) throw new Error(`testbed is not running (${file} missing): run 'bash test/testbed/testbed.sh up'`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1]) env[m[1]] = (m[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  cached = env;
  return env;
}

export function need(key: string): string {
  const value = testbedEnv()[key];
  if (value === undefined) throw new Error(`testbed env has no ${key}`);
  return value;
}

export interface S3Facts {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function s3Facts(): S3Facts {
  return {
    endpoint: need('S3_ENDPOINT'),
    region: need('S3_REGION'),
    bucket: need('S3_BUCKET'),
    accessKeyId: need('S3_ACCESS_KEY'),
    secretAccessKey: need('S3_SECRET_KEY'),
  };
}

/** A unique name for one test's prefix, database or directory. */
export function uniqueName(label: string): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
