import test from 'ava';
import { XbstreamInspector } from '../../src/galera/xbstream-inspector.js';

// xbstream chunks as mariadb-backup 10.11 writes them: magic, flags, type, path length, path; a
// payload chunk adds its length, offset, checksum and bytes.
function chunk(type: 'P' | 'E' | 'D', path: string, payload?: Buffer): Buffer {
  const name = Buffer.from(path);
  const head = Buffer.alloc(14);
  head.write('XBSTCK01', 0, 'latin1');
  head.write(type, 9, 'latin1');
  head.writeUInt32LE(name.length, 10);
  if (!payload) return Buffer.concat([head, name]);
  const sizes = Buffer.alloc(20);
  sizes.writeBigUInt64LE(BigInt(payload.length), 0);
  return Buffer.concat([head, name, sizes, payload]);
}

test('a file removed by DDL during the backup (a D chunk) does not stop the inspection', async (t) => {
  const archive = Buffer.concat([
    chunk('P', './db/t.ibd', Buffer.alloc(1000, 7)),
    chunk('E', './db/t.ibd'),
    chunk('D', './db/t.ibd'),
    chunk('P', 'xtrabackup_galera_info', Buffer.from('uuid:42\n')),
    chunk('E', 'xtrabackup_galera_info'),
  ]);
  const inspector = new XbstreamInspector((path) => path.endsWith('galera_info'));
  const out: Buffer[] = [];
  // in small pieces: headers and payloads split across chunks
  for (let i = 0; i < archive.length; i += 7) inspector.write(archive.subarray(i, i + 7));
  inspector.end();
  for await (const c of inspector) out.push(c as Buffer);
  t.is(inspector.stopped, undefined);
  t.is(inspector.files.get('xtrabackup_galera_info')?.toString(), 'uuid:42\n');
  t.true(Buffer.concat(out).equals(archive));
});
