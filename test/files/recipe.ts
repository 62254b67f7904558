import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, s3Facts } from '../helpers/testbed.js';

/** The ```bash block right after `<!-- marker -->` in a document, exactly as written. */
export function documentedScript(file: string, marker: string): string {
  const doc = readFileSync(join(repoRoot, file), 'utf8');
  const m = new RegExp(`<!-- ${marker} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(doc);
  if (!m?.[1]) throw new Error(`${file}: no ${marker} script block`);
  return m[1];
}

/** The emergency restore script exactly as docs/files-format.md documents it. */
export function emergencyRecipe(): string {
  return documentedScript('docs/files-format.md', 'emergency-restore');
}

/** Shell assignments of the variables a recipe documents, then the recipe. */
function withVariables(script: string, vars: Record<string, string>, functions: readonly string[] = []): string {
  const assignments = Object.entries(vars).map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'`);
  return [...functions, ...assignments, script].join('\n');
}

/** Runs the documented recipe with `get` defined by `getter` (a shell function body using $1). */
export function runRecipe(
  getter: string,
  vars: { LIST: string; TARGET: string; WORK: string },
  env: NodeJS.ProcessEnv = process.env,
) {
  return spawnSync('bash', ['-c', withVariables(emergencyRecipe(), vars, [`get() { ${getter}; }`])], { encoding: 'utf8', env });
}

/** Starts a README database recipe with bash, the variables it documents set; it may run a server in the foreground. */
export function startDbRecipe(
  marker: 'db-restore-physical' | 'db-restore-logical',
  vars: Record<string, string>,
  env: NodeJS.ProcessEnv,
) {
  const child = spawn('bash', ['-c', withVariables(documentedScript('README.md', marker), vars)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, output: () => stdout + stderr };
}

/** The environment for the `aws` CLI on the testbed's Ceph RGW (no files, no instance metadata). */
export function awsEnv(): NodeJS.ProcessEnv {
  const s3 = s3Facts();
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  };
}
