import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal, decimalPlaces } from '../../lambdas/domain/decimal.ts';
import { decodeUtf8, JsonSyntaxError, parseStrictJson } from '../../lambdas/http/strict-json.ts';

describe('parseStrictJson', () => {
  it('parses whatever JSON.stringify writes exactly as JSON.parse does, with no problems', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((value) => !JSON.stringify(value).includes('"__proto__"')),
        (value) => {
          const text = JSON.stringify(value);
          const parsed = parseStrictJson(text);
          expect(parsed.problems).toEqual([]);
          expect(parsed.value).toStrictEqual(JSON.parse(text));
        },
      ),
    );
  });

  it('reports duplicate keys, __proto__ and numbers a double would round, each with its path', () => {
    const { problems } = parseStrictJson(
      '{"a":1,"a":2,"m":{"__proto__":1},"n":[0.1,12345678901234567891,0.1234000000000000000001,1e400]}',
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      'body.a',
      'body.m.__proto__',
      'body.n.1',
      'body.n.2',
      'body.n.3',
    ]);
  });

  it('keeps prototype names as plain own properties', () => {
    const { value } = parseStrictJson('{"constructor":2,"toString":3}');
    expect(Object.keys(value as object)).toEqual(['constructor', 'toString']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('throws a syntax error for invalid JSON, lone surrogates and absurd nesting (never a stack overflow)', () => {
    for (const text of ['{', '{"a":}', '[1,]', '"\\ud800"', '01', '{"a":1}x', `${'['.repeat(100_000)}`]) {
      expect(() => parseStrictJson(text), text).toThrow(JsonSyntaxError);
    }
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(decodeUtf8(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))).toBeUndefined();
    expect(decodeUtf8(Buffer.from('{"é":1}'))).toBe('{"é":1}');
  });
});

describe('decimals', () => {
  it('spells equal numbers the same way', () => {
    expect(canonicalDecimal('1.50')).toBe(canonicalDecimal('15e-1'));
    expect(canonicalDecimal('-0.0')).toBe('0');
    expect(canonicalDecimal('1200')).toBe('12e2');
  });

  it('counts decimal places exactly', () => {
    expect(decimalPlaces(0.1234)).toBe(4);
    expect(decimalPlaces(0.12340000009)).toBe(11);
    expect(decimalPlaces(1e-7)).toBe(7);
    expect(decimalPlaces(1.5)).toBe(1);
    expect(decimalPlaces(1e21)).toBe(0);
  });
});
