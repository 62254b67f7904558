import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { healCountsFromDict, volumeInfoFromDict } from '../../src/gluster/index.js';
import { CliProc, callGlusterd, decodeReply, encodeCall, parseDict, serializeDict } from '../../src/gluster/rpc.js';
import { PermanentError } from '../../src/lib/errors.js';

// What `gluster --mode=script volume heal lifeboat statistics heal-count` (glusterfs 10.3) wrote
// to glusterd's socket, record mark included (captured with strace).
const CLI_HEAL_COUNT_CALL =
  '800000b00000000200000000000000020012e5bf000000020000001f0005f3970000001800000000000000000000000000000000000000040000000000000000000000000000006a00000003000000070000002b636d642d73747200766f6c756d65206865616c206c696665626f61742073746174697374696373206865616c2d636f756e740000000007000000026865616c2d6f700038000000000700000009766f6c6e616d65006c696665626f6174000000';

/** An accepted reply carrying `gf_cli_rsp`, as glusterd sends it (without the record mark). */
function reply(xid: number, opRet: number, errstr: string, dict: Map<string, string>): Buffer {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const opaque = (b: Buffer): Buffer => Buffer.concat([u32(b.length), b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  return Buffer.concat([
    u32(xid),
    u32(1),
    u32(0),
    u32(0),
    u32(0),
    u32(0),
    u32(opRet),
    u32(0),
    opaque(Buffer.from(errstr)),
    opaque(serializeDict(dict)),
  ]);
}

test('a call is byte for byte what the gluster CLI sends', (t) => {
  const call = encodeCall(
    2,
    CliProc.heal,
    new Map([
      ['cmd-str', 'volume heal lifeboat statistics heal-count'],
      ['heal-op', '8'],
      ['volname', 'lifeboat'],
    ]),
  );
  t.is(call.toString('hex'), CLI_HEAL_COUNT_CALL);
});

test('dicts round-trip; a reply decodes to its result and dict', (t) => {
  const dict = new Map([
    ['a', '1'],
    ['long key', 'välue with spaces'],
    ['empty', ''],
  ]);
  t.deepEqual(parseDict(serializeDict(dict)), dict);
  const decoded = decodeReply(reply(7, -1, 'Volume nope does not exist', dict), 7);
  t.is(decoded.opRet, -1);
  t.is(decoded.opErrstr, 'Volume nope does not exist');
  t.deepEqual(decoded.dict, dict);
  t.throws(() => decodeReply(reply(7, 0, '', dict), 8), { instanceOf: PermanentError, message: /another call/ });
  t.throws(() => decodeReply(reply(7, 0, '', dict).subarray(0, 40), 7), { instanceOf: PermanentError, message: /truncated/ });
});

test('heal counts from a reply: a brick that is down, or with a self-heal daemon status, has none (keys as glusterfs 10.3 sends them)', (t) => {
  const counts = healCountsFromDict(
    new Map([
      ['count', '3'],
      ['0-hostname', 'vm'],
      ['0-path', '/bricks/b1'],
      ['0-hardlinks', '0'],
      ['1-hostname', 'vm'],
      ['1-path', '/bricks/b2'],
      ['1-hardlinks', '4'],
      ['2-hostname', 'vm'],
      ['2-path', '/bricks/b3'],
      ['2-status', 'Brick is not connected'],
      ['3-hostname', 'vm'],
      ['3-path', '/bricks/b4'],
      ['3-hardlinks', '0'],
      ['3-shd-status', 'self-heal daemon not running'],
      ['count', '4'],
    ]),
  );
  t.deepEqual(
    [...counts],
    [
      ['vm:/bricks/b1', 0],
      ['vm:/bricks/b2', 4],
    ],
  );
});

test('volume info from a reply: type, bricks with arbiter flags, options', (t) => {
  const dict = new Map([
    ['count', '1'],
    ['volume0.name', 'media'],
    ['volume0.volume_id', '7423973c-49d4-491c-8ca4-20e09bda8f68'],
    ['volume0.type', '2'],
    ['volume0.brick_count', '3'],
    ['volume0.dist_count', '3'],
    ['volume0.brick1', 'n1:/b'],
    ['volume0.brick1.uuid', 'u1'],
    ['volume0.brick2', 'n2:/b'],
    ['volume0.brick2.uuid', 'u2'],
    ['volume0.brick3', 'n3:/b'],
    ['volume0.brick3.uuid', 'u3'],
    ['volume0.brick3.isArbiter', '1'],
    ['volume0.option.features.shard', 'on'],
  ]);
  const info = volumeInfoFromDict(dict);
  t.is(info.type, 'Replicate');
  t.deepEqual(info.bricks[2], { name: 'n3:/b', hostUuid: 'u3', arbiter: true });
  t.false(info.bricks[0]?.arbiter);
  t.is(info.options.get('features.shard'), 'on');
  t.is(
    volumeInfoFromDict(new Map([...dict, ['volume0.brick_count', '3'], ['volume0.dist_count', '1'], ['volume0.type', '0']])).type,
    'Distribute',
  );
  t.is(volumeInfoFromDict(new Map([...dict, ['volume0.dist_count', '1']])).type, 'Distributed-Replicate');
  t.throws(() => volumeInfoFromDict(new Map([['count', '0']])), { message: /no volume/ });
  const noLayout = new Map(dict);
  noLayout.delete('volume0.dist_count');
  t.not(volumeInfoFromDict(noLayout).type, 'Replicate', 'a layout that cannot be told is never a pure replica');
});

/** A unix socket server that writes `answer(call)` to each call, in those pieces, then closes when `end`. */
async function fakeGlusterd(
  t: { teardown: (fn: () => void) => void },
  answer: (call: Buffer) => Buffer[],
  end = false,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-glusterd-'));
  const socket = join(dir, 'glusterd.socket');
  const server: Server = createServer((conn) => {
    conn.once('data', (call) => {
      for (const part of answer(call)) conn.write(part);
      if (end) conn.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

test('a reply in several record fragments and socket writes is put together', async (t) => {
  const socket = await fakeGlusterd(t, (call) => {
    const message = reply(call.readUInt32BE(4), 0, '', new Map([['uuid', 'u1']]));
    const mark = (n: number, last: boolean): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(((last ? 0x8000_0000 : 0) | n) >>> 0);
      return b;
    };
    const whole = Buffer.concat([
      mark(10, false),
      message.subarray(0, 10),
      mark(message.length - 10, true),
      message.subarray(10),
    ]);
    return [whole.subarray(0, 3), whole.subarray(3, 17), whole.subarray(17)];
  });
  const answer = await callGlusterd(CliProc.uuidGet, new Map([['cmd-str', 'system:: uuid get']]), { socket });
  t.is(answer.dict.get('uuid'), 'u1');
});

test('a socket that is missing, closes before answering or never answers fails the call', async (t) => {
  await t.throwsAsync(callGlusterd(CliProc.uuidGet, new Map(), { socket: '/nonexistent/glusterd.socket' }), {
    instanceOf: PermanentError,
    message: /glusterd socket/,
  });
  const closing = await fakeGlusterd(t, () => [Buffer.from([0x80, 0, 0])], true);
  await t.throwsAsync(callGlusterd(CliProc.uuidGet, new Map(), { socket: closing }), { message: /closed the connection/ });
  const silent = await fakeGlusterd(t, () => []);
  await t.throwsAsync(callGlusterd(CliProc.uuidGet, new Map(), { socket: silent, timeoutMs: 200 }), { message: /within 200 ms/ });
});
