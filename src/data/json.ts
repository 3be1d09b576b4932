import { readFile } from 'node:fs/promises';
import { DataError } from './errors.js';

/**
 * Parses JSON text; on a syntax error throws a DataError whose message gives the file,
 * line and column of the first offending character.
 */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const pos = findJsonErrorPosition(text);
    const { line, column } = lineColumn(text, pos.offset);
    throw new DataError(
      [{ file, field: '', message: `malformed JSON at line ${line}, column ${column}: ${pos.message}` }],
      `cannot parse ${file}`,
    );
  }
}

export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DataError([{ file, field: '', message: `cannot read: ${(e as Error).message}` }], `cannot read ${file}`);
  }
  return parseJsonText(text, file);
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/**
 * A strict JSON scanner (RFC 8259) used only after JSON.parse failed, to locate the error:
 * returns the offset of the first character that cannot continue a valid document.
 */
export function findJsonErrorPosition(text: string): { offset: number; message: string } {
  let i = 0;
  const n = text.length;
  class Fail {
    constructor(
      readonly offset: number,
      readonly message: string,
    ) {}
  }
  const ws = (): void => {
    while (i < n) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else break;
    }
  };
  const describe = (): string => (i >= n ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);
  const expect = (s: string): void => {
    for (let j = 0; j < s.length; j++) {
      if (text[i] !== s[j]) throw new Fail(i, describe());
      i++;
    }
  };
  const str = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= n) throw new Fail(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Fail(i, 'control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Fail(i, 'bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else throw new Fail(i, 'bad escape');
      } else i++;
    }
  };
  const num = (): void => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0].length === 0) throw new Fail(i, describe());
    i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Fail(i, `${describe()}, expected a property name`);
        str();
        ws();
        if (text[i] !== ':') throw new Fail(i, `${describe()}, expected ':'`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        throw new Fail(i, `${describe()}, expected ',' or '}'`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        throw new Fail(i, `${describe()}, expected ',' or ']'`);
      }
    }
    if (c === '"') return str();
    if (c === 't') return expect('true');
    if (c === 'f') return expect('false');
    if (c === 'n') return expect('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    throw new Fail(i, `${describe()}, expected a value`);
  };
  try {
    value();
    ws();
    if (i < n) return { offset: i, message: `${describe()} after the end of the document` };
    return { offset: n, message: 'invalid JSON' };
  } catch (e) {
    if (e instanceof Fail) return { offset: e.offset, message: e.message };
    throw e;
  }
}
