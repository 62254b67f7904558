import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { run, spawnPipeline, spawnSource } from '../../src/lib/child-process.js';

const childProcessModule = join(dirname(fileURLToPath(import.meta.url)), '../../src/lib/child-process.js');

/** Running (a zombie, exited but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== '' && !/\) Z /.test(stat);
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

test('a child past its deadline is killed and the stage fails naming the deadline', async (t) => {
  const started = Date.now();
  await t.throwsAsync(run('sleep', ['30'], { name: 'sleeper', timeoutMs: 300 }), {
    message: /^sleeper: did not finish within its deadline of 0\.3 s \(killed\)$/,
  });
  t.true(Date.now() - started < 3000, `${Date.now() - started} ms`);
});

test('children do not outlive a SIGKILLed parent, even when they never write', async (t) => {
  // The parent starts a silent child (it never touches its pipes) and a zstd waiting on stdin.
  const script = `
    import { spawnSource, spawnTransform } from ${JSON.stringify(childProcessModule)};
    const quiet = spawnSource('sleep', ['300']);
    quiet.on('error', () => {});
    const zstd = spawnTransform('zstd', ['-q', '-c']);
    zstd.on('error', () => {});
    setTimeout(() => process.stdout.write('ready\\n'), 300);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => parent.stdout.once('data', () => resolve()));
  const children = childrenOf(parent.pid ?? -1);
  t.is(children.length, 2, 'sleep and zstd started');
  parent.kill('SIGKILL');
  await new Promise((resolve) => parent.once('close', resolve));
  const deadline = Date.now() + 3000;
  while (children.some(alive) && Date.now() < deadline) await sleep(50);
  const left = children.filter(alive);
  for (const pid of left) process.kill(pid, 'SIGKILL'); // never leave them behind
  t.deepEqual(left, [], 'no child outlived its parent by 3 s');
});

test('a command that is not installed still fails as itself', async (t) => {
  const source = spawnSource('/nonexistent/tool', [], { name: 'tool' });
  await t.throwsAsync(
    (async () => {
      for await (const _ of source);
    })(),
    { message: 'tool: command not found: /nonexistent/tool' },
  );
});

/** Pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => Number(/\) \S+ (\d+)/.exec(readStat(p))?.[1]) === pid);
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

test('a pipeline passes bytes stage to stage and fails when any stage fails', async (t) => {
  const sh = (script: string) => ({ command: 'sh', args: ['-c', script] });
  t.is(await collect(spawnPipeline([sh('printf "b\\na\\n"'), { command: 'sort', args: [] }])), 'a\nb\n');
  // The first stage fails after the last one has read everything and exited 0: still a failure.
  await t.throwsAsync(collect(spawnPipeline([sh('echo partial; exit 3'), { command: 'cat', args: [] }])), {
    message: /sh: exited with code 3/,
  });
  // The last stage dies without reading: the first fails writing instead of blocking on a full
  // pipe (this process holds no read end of the pipe between them).
  await t.throwsAsync(collect(spawnPipeline([{ command: 'yes', args: [] }, sh('exit 5')])), {
    message: /(yes|sh): (exited with code|killed by)/,
  });
});
