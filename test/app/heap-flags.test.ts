import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { HEAP_FLAGS } from '../../src/lib/heap.js';
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
