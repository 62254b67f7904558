/**
 * The tar subset packs use: one ustar header per content blob, named by its sha256, followed by
 * the content padded to 512 bytes; sizes of 8 GiB and more use the GNU base-256 encoding that
 * GNU tar, bsdtar and tar-stream read.
 */

export const BLOCK = 512;

/** Two zero blocks: the end-of-archive marker. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

const OCTAL_SIZE_LIMIT = 8 ** 11;

/** The 512-byte header of a regular file entry. */
export function tarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new RangeError(`tar entry '${name}': name longer than 100 bytes`);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (size < OCTAL_SIZE_LIMIT) octal(h, 124, 12, size);
  else {
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  octal(h, 136, 12, Math.max(0, Math.floor(mtimeSeconds)));
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** Bytes a blob of `size` occupies in a tar stream: header, content, padding. */
export function tarEntrySize(size: number): number {
  return BLOCK + Math.ceil(size / BLOCK) * BLOCK;
}

function octal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
