import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import test from 'ava';
import { unqualifyViews } from '../../src/staging/index.js';

const dump = [
  "INSERT INTO `c` VALUES (1,'`shop`.`c` stays in data');",
  '/*!50001 VIEW `v` AS select `shop`.`c`.`entity_id` AS `entity_id`,`shop`.`c`.`email` AS `email` from `c` */;',
  '/*!50001 VIEW `w` AS select `other`.`t`.`x` AS `x` from `other`.`t` */;',
  '',
].join('\n');

test('view bodies lose the dumped schema qualifier, data and other schemas keep theirs, across any chunking', async (t) => {
  const expected = dump.replace(
    '`shop`.`c`.`entity_id` AS `entity_id`,`shop`.`c`.`email`',
    '`c`.`entity_id` AS `entity_id`,`c`.`email`',
  );
  for (const size of [1, 7, 64, dump.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < dump.length; i += size) chunks.push(Buffer.from(dump.slice(i, i + size)));
    t.is(await text(Readable.from(chunks).pipe(unqualifyViews('shop'))), expected, `chunks of ${size}`);
  }
  t.is(await text(Readable.from([Buffer.from('no newline at the end')]).pipe(unqualifyViews('shop'))), 'no newline at the end');
});
