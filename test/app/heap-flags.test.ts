import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { growthRelaxer, HEAP_FLAGS } from '../../src/lib/heap.js';
import { repoRoot } from '../helpers/testbed.js';

// The V8 flags live in three places that cannot import each other: keep them equal.
test('the executable and the systemd unit run with HEAP_FLAGS', (t) => {
  const shebang = readFileSync(join(repoRoot, 'src/app/main.ts'), 'utf8').split('\n')[0];
  t.is(shebang, `#!/usr/bin/env -S node ${HEAP_FLAGS.join(' ')}`);
  const built = readFileSync(join(repoRoot, 'dist/src/app/main.js'), 'utf8').split('\n')[0];
  t.is(built, shebang, 'tsc keeps the shebang');
  const bundled = readFileSync(join(repoRoot, 'dist/bundle/main.js'), 'utf8').split('\n')[0];
  t.is(bundled, shebang, 'the bundle keeps the shebang');
  const unit = readFileSync(join(repoRoot, 'config/lifeboat.service'), 'utf8');
  t.regex(unit, new RegExp(`^ExecStart=/usr/bin/node ${HEAP_FLAGS.join(' ')} \\S+/main\\.js daemon$`, 'm'));
});

test('relaxed heap growth is shared by its callers; the start value comes back after the last', (t) => {
  const calls: string[] = [];
  const relax = growthRelaxer('--heap-growing-percent=30', (flag) => calls.push(flag));
  const a = relax();
  const b = relax();
  a();
  a(); // a second release is ignored
  t.deepEqual(calls, ['--heap-growing-percent=0']);
  b();
  t.deepEqual(calls, ['--heap-growing-percent=0', '--heap-growing-percent=30']);
  relax()();
  t.is(calls.length, 4);
  const none = growthRelaxer(undefined, (flag) => calls.push(flag));
  none()();
  t.is(calls.length, 4, 'a process started without the flag is left alone');
});

test('V8 takes the growth flag while running', (t) => {
  const script = `const { setFlagsFromString } = await import('node:v8'); setFlagsFromString('--heap-growing-percent=0'); setFlagsFromString('--heap-growing-percent=30'); console.log('ok');`;
  const out = execFileSync(process.execPath, [...HEAP_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.is(out.trim(), 'ok');
});
