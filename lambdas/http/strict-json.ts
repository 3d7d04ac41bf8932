/**
 * A JSON parser that refuses what `JSON.parse` lets through silently: a key given twice (last one
 * wins), a `__proto__` key (dropped by object builders downstream), and a number its double cannot
 * hold exactly (`0.12340000009` is kept, but `12345678901234567891` or `0.1234000000000000000001`
 * would be rounded). The body must already be valid UTF-8 text (see `decodeUtf8`).
 *
 * Syntax errors throw {@link JsonSyntaxError}; the three ambiguities above are collected as
 * problems with the path of the value, so a request lists all of its problems at once.
 */
import { canonicalDecimal } from '../domain/decimal.ts';
import type { FieldProblem } from '../domain/errors.ts';

export class JsonSyntaxError extends Error {}

/** Deeper than any body of this API, shallow enough that the recursive parser cannot overflow. */
const MAX_DEPTH = 64;

/** The JSON grammar of a string (JSON.parse then decodes its escapes) and of a number; sticky. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

export interface StrictJsonResult {
  value: unknown;
  problems: FieldProblem[];
}

/** Decode bytes as UTF-8, refusing invalid sequences instead of replacing them with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function parseStrictJson(text: string, root = 'body'): StrictJsonResult {
  const problems: FieldProblem[] = [];
  let at = 0;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${at}`);
  };
  const skipSpace = () => {
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      at++;
    }
  };
  const expect = (char: string) => {
    if (text[at] !== char) fail(`expected '${char}'`);
    at++;
  };

  const parseValue = (path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    skipSpace();
    const c = text[at];
    if (c === '{') return parseObject(path, depth);
    if (c === '[') return parseArray(path, depth);
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber(path);
    for (const [literal, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return value;
      }
    }
    return fail(c === undefined ? 'unexpected end of input' : `unexpected '${c}'`);
  };

  const parseObject = (path: string, depth: number) => {
    expect('{');
    const object: Record<string, unknown> = {};
    skipSpace();
    if (text[at] === '}') {
      at++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text[at] !== '"') fail('expected a property name');
      const key = parseString();
      const keyPath = `${path}.${key}`;
      skipSpace();
      expect(':');
      const value = parseValue(keyPath, depth + 1);
      if (key === '__proto__') {
        problems.push({ path: keyPath, message: 'is not allowed as a property name' });
      } else if (Object.hasOwn(object, key)) {
        problems.push({ path: keyPath, message: 'appears more than once; send each property once' });
      } else {
        // defineProperty, not assignment: a key such as "constructor" stays a plain own property.
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      }
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      expect('}');
      return object;
    }
  };

  const parseArray = (path: string, depth: number) => {
    expect('[');
    const array: unknown[] = [];
    skipSpace();
    if (text[at] === ']') {
      at++;
      return array;
    }
    for (;;) {
      array.push(parseValue(`${path}.${array.length}`, depth + 1));
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      expect(']');
      return array;
    }
  };

  const parseString = (): string => {
    STRING.lastIndex = at;
    const match = STRING.exec(text);
    if (!match) return fail('invalid string');
    at += match[0].length;
    const value = JSON.parse(match[0]) as string;
    if (!value.isWellFormed()) fail('string with an unpaired surrogate escape');
    return value;
  };

  const parseNumber = (path: string): number => {
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) return fail('invalid number');
    at += match[0].length;
    const value = Number(match[0]);
    if (!Number.isFinite(value) || canonicalDecimal(match[0]) !== canonicalDecimal(String(value))) {
      problems.push({
        path,
        message: `${match[0].length > 40 ? `${match[0].slice(0, 40)}…` : match[0]} cannot be represented exactly; send at most 15 significant digits`,
      });
    }
    return value;
  };

  const value = parseValue(root, 0);
  skipSpace();
  if (at !== text.length) fail('unexpected data after the JSON value');
  return { value, problems };
}
