import { describe, expect, it } from '@jest/globals';
import { evaluate, ExpressionError, parseExpression, type Value } from '../../src/flows/expression.ts';

const vars: Record<string, Value> = { tags: ['vip', 'new'], birthMonth: 7, city: 'Taipei', answer: '7', empty: null };
const run = (src: string) => evaluate(parseExpression(src), (n) => vars[n] ?? null);

describe('the if: expression language', () => {
  it('compares numbers, strings and saved values', () => {
    expect(run('birthMonth == 7')).toBe(true);
    expect(run('birthMonth != 7')).toBe(false);
    expect(run('answer == 7')).toBe(true); // a saved "7" equals 7
    expect(run('birthMonth >= 7 and birthMonth < 8')).toBe(true);
    expect(run('birthMonth > 7')).toBe(false);
    expect(run("city == 'Taipei'")).toBe(true);
    expect(run('city == "taipei"')).toBe(false);
    expect(run("'a' < 'b'")).toBe(true);
    expect(run('-3 < -2')).toBe(true);
  });

  it('has and/or/not with the usual precedence and parentheses', () => {
    expect(run('true or false and false')).toBe(true);
    expect(run('(true or false) and false')).toBe(false);
    expect(run('not false and true')).toBe(true);
    expect(run('not (birthMonth == 7)')).toBe(false);
  });

  it('tests membership with in / not in', () => {
    expect(run("'vip' in tags")).toBe(true);
    expect(run("'gold' in tags")).toBe(false);
    expect(run("'gold' not in tags")).toBe(true);
    expect(run('birthMonth in [6, 7, 8]')).toBe(true);
    expect(run("'pei' in city")).toBe(true);
  });

  it('treats unknown names as null', () => {
    expect(run('nothing == null')).toBe(true);
    expect(run('empty == null and not empty')).toBe(true);
    expect(run('nothing > 3')).toBe(false);
  });

  it.each([
    ['a === 1', 'use "==" instead of "==="', 2],
    ['a && b', 'use "and" instead of "&&"', 2],
    ['a || b', 'use "or" instead of "||"', 2],
    ['!a', 'use "not" instead of "!"', 0],
    ['a = 1', 'use "==" to compare ("=" alone is not an operator)', 2],
    ['alert(1)', '"alert(…)": function calls are not part of the language', 5],
    ['process.exit()', '"process.exit(…)": function calls are not part of the language', 12],
    ['constructor.constructor("x")()', '"constructor.constructor(…)": function calls are not part of the language', 23],
    ['a + 1', 'unexpected character "+"', 2],
    ['`x`', 'unexpected character "`"', 0],
    ['a ==', 'the expression ends too early', 4],
    ['(a == 1', 'expected ")" but found the end of the expression', 7],
    ['a == 1 b', 'unexpected "b"', 7],
    ["'open", 'unterminated string', 0],
    ['x[0]', 'unexpected "["', 1],
  ])('rejects %s', (src, message, offset) => {
    let error: unknown;
    try {
      parseExpression(src);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as ExpressionError).message).toBe(message);
    expect((error as ExpressionError).offset).toBe(offset);
  });
});
