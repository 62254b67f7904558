import { Transform } from 'node:stream';

const MARKER = Buffer.from('/*!50001 VIEW ');

/**
 * Passes a `mariadb-dump` of `schema` through, dropping `` `schema`. `` qualifiers from its view
 * bodies so the dump loads into a schema of another name. (MariaDB keeps them in the definition
 * of a view created under ANSI_QUOTES, and SHOW CREATE VIEW prints them.) Only the lines that
 * carry a view body (`/*!50001 VIEW …`) are read as text; everything else passes untouched.
 */
export function unqualifyViews(schema: string): Transform {
  const qualifier = `\`${schema.replaceAll('`', '``')}\`.`;
  let carry: Buffer[] = []; // the current line, not yet ended by a newline
  const fix = (lines: Buffer): Buffer => {
    if (lines.indexOf(MARKER) < 0) return lines;
    const text = lines
      .toString('utf8')
      .split('\n')
      .map((line) => (line.startsWith('/*!50001 VIEW ') ? line.replaceAll(qualifier, '') : line))
      .join('\n');
    return Buffer.from(text, 'utf8');
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const last = chunk.lastIndexOf(10);
      if (last < 0) {
        carry.push(chunk);
        return cb();
      }
      const complete = Buffer.concat([...carry, chunk.subarray(0, last + 1)]);
      carry = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
      cb(null, fix(complete));
    },
    flush(cb) {
      cb(null, carry.length ? fix(Buffer.concat(carry)) : undefined);
    },
  });
}
