import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/testbed.js';

/** The emergency restore script exactly as docs/files-format.md documents it. */
export function emergencyRecipe(): string {
  const doc = readFileSync(join(repoRoot, 'docs/files-format.md'), 'utf8');
  const m = /<!-- emergency-restore -->\s*```bash\n([\s\S]*?)```/.exec(doc);
  if (!m?.[1]) throw new Error('docs/files-format.md: no emergency-restore script block');
  return m[1];
}

/** Runs the documented recipe with `get` defined by `getter` (a shell function body using $1). */
export function runRecipe(
  getter: string,
  vars: { LIST: string; TARGET: string; WORK: string },
  env: NodeJS.ProcessEnv = process.env,
) {
  const preamble = [`get() { ${getter}; }`, ...Object.entries(vars).map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'`)].join(
    '\n',
  );
  return spawnSync('bash', ['-c', `${preamble}\n${emergencyRecipe()}`], { encoding: 'utf8', env });
}
