import { connect } from 'node:net';
import { AbortedError, PermanentError } from '../lib/errors.js';

// glusterd's CLI program spoken directly on its unix socket: what the `gluster` binary sends and
// reads (ONC RPC with record marking, XDR, glusterfs dicts), so that a snapshot's questions cost
// a few milliseconds instead of a CLI process each (which also runs Python `gsyncd --version`).

/** The socket the `gluster` CLI talks to by default. */
export const GLUSTERD_SOCKET = '/var/run/glusterd.socket';

/** GLUSTER_CLI_PROGRAM, version 2, and the procedures used (its enum is only ever appended to). */
const PROGRAM = 1238463;
const VERSION = 2;
export const CliProc = { getVolume: 5, heal: 31, uuidGet: 36, getVolOpt: 41 } as const;

/** AUTH_GLUSTERFS_v2 with pid, uid and gid 0, no groups and a 4-byte zero lock owner, as the CLI sends. */
const AUTH_GLUSTERFS_V2 = 390039;
const CREDENTIALS = Buffer.alloc(24);
CREDENTIALS.writeUInt32BE(4, 16);

const CALL = 0;
const REPLY = 1;
const MSG_ACCEPTED = 0;
const SUCCESS = 0;
const LAST_FRAGMENT = 0x8000_0000;
const MAX_REPLY_BYTES = 64 << 20;

/** A glusterfs dict with string values (what the CLI program exchanges), without the values' trailing NUL. */
export type GlusterDict = ReadonlyMap<string, string>;

/** The dict as glusterfs serializes it: count, then per pair key length, value length, key, NUL, value (with its NUL). */
export function serializeDict(dict: GlusterDict): Buffer {
  const parts: Buffer[] = [u32(dict.size)];
  for (const [key, value] of dict) {
    const k = Buffer.from(`${key}\0`);
    const v = Buffer.from(`${value}\0`);
    parts.push(u32(k.length - 1), u32(v.length), k, v);
  }
  return Buffer.concat(parts);
}

/** Reads a serialized dict; values lose one trailing NUL (binary values such as raw UUIDs come out mangled and are not used). */
export function parseDict(bytes: Buffer): Map<string, string> {
  const dict = new Map<string, string>();
  if (bytes.length === 0) return dict;
  const r = new XdrReader(bytes);
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const keyLength = r.u32();
    const valueLength = r.u32();
    const key = r.bytes(keyLength + 1);
    const value = r.bytes(valueLength);
    const end = value.length > 0 && value[value.length - 1] === 0 ? value.length - 1 : value.length;
    dict.set(key.toString('utf8', 0, keyLength), value.toString('utf8', 0, end));
  }
  return dict;
}

/** One CLI procedure's request: a call message carrying `gf_cli_req { opaque dict<> }`, record-marked. */
export function encodeCall(xid: number, proc: number, dict: GlusterDict): Buffer {
  const body = Buffer.concat([
    u32(xid),
    u32(CALL),
    u32(2), // RPC version
    u32(PROGRAM),
    u32(VERSION),
    u32(proc),
    u32(AUTH_GLUSTERFS_V2),
    u32(CREDENTIALS.length),
    CREDENTIALS,
    u32(0), // verifier: AUTH_NULL
    u32(0),
    opaque(serializeDict(dict)),
  ]);
  return Buffer.concat([u32(LAST_FRAGMENT | body.length), body]);
}

/** glusterd's answer: `gf_cli_rsp { int op_ret; int op_errno; string op_errstr<>; opaque dict<> }`. */
export interface CliReply {
  readonly opRet: number;
  readonly opErrno: number;
  readonly opErrstr: string;
  readonly dict: Map<string, string>;
}

/** Decodes a reply message (record marks already removed); throws on anything but an accepted, successful reply to `xid`. */
export function decodeReply(message: Buffer, xid: number): CliReply {
  const r = new XdrReader(message);
  if (r.u32() !== xid) throw new PermanentError('glusterd answered another call');
  if (r.u32() !== REPLY) throw new PermanentError('glusterd sent no reply');
  if (r.u32() !== MSG_ACCEPTED) throw new PermanentError('glusterd denied the call');
  r.u32(); // verifier flavour
  r.bytes(pad(r.u32()));
  const status = r.u32();
  if (status !== SUCCESS) throw new PermanentError(`glusterd did not run the call (accept status ${status})`);
  const opRet = r.i32();
  const opErrno = r.i32();
  const opErrstr = r.bytes(pad(r.u32()));
  const dict = r.bytes(pad(r.u32()));
  return {
    opRet,
    opErrno,
    opErrstr: opErrstr.toString('utf8').replace(/\0+$/, ''),
    dict: parseDict(dict),
  };
}

let lastXid = 0;

/**
 * Calls one procedure of glusterd's CLI program on `socket` and returns its reply (with the
 * operation's own result, which may be a failure, in opRet). Transport and protocol failures
 * throw PermanentError; `signal` aborts with AbortedError.
 */
export function callGlusterd(
  proc: number,
  dict: GlusterDict,
  options: { readonly socket?: string; readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<CliReply> {
  lastXid = (lastXid % 0x7fff_ffff) + 1;
  const xid = lastXid;
  if (options.signal?.aborted) return Promise.reject(new AbortedError('glusterd call aborted', { cause: options.signal.reason }));
  return new Promise((resolve, reject) => {
    const conn = connect(options.socket ?? GLUSTERD_SOCKET);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | undefined, reply?: CliReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      conn.destroy();
      if (err) reject(err);
      else resolve(reply as CliReply);
    };
    const onAbort = (): void => finish(new AbortedError('glusterd call aborted', { cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(
      () => finish(new PermanentError(`glusterd did not answer within ${options.timeoutMs ?? 30_000} ms`)),
      options.timeoutMs ?? 30_000,
    );
    conn.on('error', (err) => finish(new PermanentError(`glusterd socket: ${err.message}`, { cause: err })));
    conn.on('end', () => finish(new PermanentError('glusterd closed the connection before answering')));
    conn.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received > MAX_REPLY_BYTES) return finish(new PermanentError('glusterd reply too large'));
      const message = reassemble(Buffer.concat(chunks));
      if (!message) return;
      try {
        finish(undefined, decodeReply(message, xid));
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    conn.write(encodeCall(xid, proc, dict));
  });
}

/** The message once its last fragment is in, else undefined. */
function reassemble(bytes: Buffer): Buffer | undefined {
  const fragments: Buffer[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const mark = bytes.readUInt32BE(at);
    const length = mark & 0x7fff_ffff;
    if (at + 4 + length > bytes.length) return undefined;
    fragments.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
    if (mark & LAST_FRAGMENT) return Buffer.concat(fragments);
  }
  return undefined;
}

class XdrReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  /** the next `n` bytes (callers include XDR padding) */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new PermanentError('glusterd reply truncated');
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** XDR variable-length opaque: length, bytes, zero padding to 4. */
function opaque(bytes: Buffer): Buffer {
  return Buffer.concat([u32(bytes.length), bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
}

function pad(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}
