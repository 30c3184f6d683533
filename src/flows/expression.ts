/**
 * The `if:` expression language: a hand-written tokenizer and recursive-descent parser over a
 * handful of operators. Expressions are data evaluated by `evaluate`; nothing is ever handed to
 * a JavaScript evaluator.
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | compare
 *   compare := primary ((== | != | < | <= | > | >= | in | not in) primary)?
 *   primary := number | string | true | false | null | name | "(" expr ")" | "[" [expr ("," expr)*] "]"
 */
export type Value = string | number | boolean | null | Value[];

export type Expr =
  | { kind: 'literal'; value: Value }
  | { kind: 'name'; name: string }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'not'; operand: Expr }
  | { kind: 'logical'; op: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';

export class ExpressionError extends Error {
  /** 0-based character offset in the source. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

type Token =
  | { t: 'num'; value: number; at: number }
  | { t: 'str'; value: string; at: number }
  | { t: 'name'; value: string; at: number }
  | { t: 'op'; value: string; at: number }
  | { t: 'end'; at: number };

const keywords = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const jsHints: Record<string, string> = {
  '&&': 'use "and" instead of "&&"',
  '||': 'use "or" instead of "||"',
  '===': 'use "==" instead of "==="',
  '!==': 'use "!=" instead of "!=="',
};

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const three = src.slice(i, i + 3);
    const two = src.slice(i, i + 2);
    if (jsHints[three]) throw new ExpressionError(jsHints[three], i);
    if (jsHints[two]) throw new ExpressionError(jsHints[two], i);
    if (['==', '!=', '<=', '>='].includes(two)) { out.push({ t: 'op', value: two, at: i }); i += 2; continue; }
    if ('<>()[],'.includes(c)) { out.push({ t: 'op', value: c, at: i }); i++; continue; }
    if (c === '=') throw new ExpressionError('use "==" to compare ("=" alone is not an operator)', i);
    if (c === '!') throw new ExpressionError('use "not" instead of "!"', i);
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? '') && !prevIsValue(out))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', value: Number(m[0]), at: i });
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) throw new ExpressionError(`unexpected "${src[i]}" after a number`, i);
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= src.length) throw new ExpressionError('unterminated string', i);
        const d = src[j]!;
        if (d === '\\') {
          const e = src[j + 1];
          if (e === undefined) throw new ExpressionError('unterminated string', i);
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
          continue;
        }
        if (d === c) break;
        value += d;
        j++;
      }
      out.push({ t: 'str', value, at: i });
      i = j + 1;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', value: name[0], at: i });
      i += name[0].length;
      continue;
    }
    throw new ExpressionError(`unexpected character "${c}"`, i);
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

function prevIsValue(tokens: Token[]): boolean {
  const p = tokens[tokens.length - 1];
  if (!p) return false;
  if (p.t === 'num' || p.t === 'str') return true;
  if (p.t === 'name') return !['and', 'or', 'not', 'in'].includes(p.value);
  return p.t === 'op' && (p.value === ')' || p.value === ']');
}

/** Parses an expression; throws ExpressionError with the offset of the problem. */
export function parseExpression(src: string): Expr {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const isOp = (v: string) => { const t = peek(); return t.t === 'op' && t.value === v; };
  const isWord = (v: string) => { const t = peek(); return t.t === 'name' && t.value === v; };
  const describe = (t: Token) => (t.t === 'end' ? 'the end of the expression' : `"${t.t === 'str' ? JSON.stringify(t.value) : String(t.value)}"`);
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExpressionError(`expected "${v}" but found ${describe(peek())}`, peek().at);
    pos++;
  };

  const parseOr = (): Expr => {
    let left = parseAnd();
    while (isWord('or')) { pos++; left = { kind: 'logical', op: 'or', left, right: parseAnd() }; }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseNot();
    while (isWord('and')) { pos++; left = { kind: 'logical', op: 'and', left, right: parseNot() }; }
    return left;
  };
  const parseNot = (): Expr => {
    if (isWord('not')) { pos++; return { kind: 'not', operand: parseNot() }; }
    return parseCompare();
  };
  const parseCompare = (): Expr => {
    const left = parsePrimary();
    const t = peek();
    let op: CompareOp | null = null;
    if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value)) { op = t.value as CompareOp; pos++; }
    else if (isWord('in')) { op = 'in'; pos++; }
    else if (isWord('not') && tokens[pos + 1]?.t === 'name' && (tokens[pos + 1] as { value: string }).value === 'in') { op = 'not in'; pos += 2; }
    if (!op) return left;
    return { kind: 'compare', op, left, right: parsePrimary() };
  };
  const parsePrimary = (): Expr => {
    const t = peek();
    switch (t.t) {
      case 'num': pos++; return { kind: 'literal', value: t.value };
      case 'str': pos++; return { kind: 'literal', value: t.value };
      case 'name': {
        if (t.value === 'true' || t.value === 'false') { pos++; return { kind: 'literal', value: t.value === 'true' }; }
        if (t.value === 'null') { pos++; return { kind: 'literal', value: null }; }
        if (keywords.has(t.value)) throw new ExpressionError(`unexpected "${t.value}"`, t.at);
        pos++;
        if (isOp('(')) throw new ExpressionError(`"${t.value}(…)": function calls are not part of the language`, peek().at);
        return { kind: 'name', name: t.value };
      }
      case 'op':
        if (t.value === '(') {
          pos++;
          const inner = parseOr();
          expect(')');
          return inner;
        }
        if (t.value === '[') {
          pos++;
          const items: Expr[] = [];
          if (!isOp(']')) {
            items.push(parseOr());
            while (isOp(',')) { pos++; items.push(parseOr()); }
          }
          expect(']');
          return { kind: 'list', items };
        }
        throw new ExpressionError(`unexpected "${t.value}"`, t.at);
      case 'end':
        throw new ExpressionError('the expression ends too early', t.at);
    }
  };

  const expr = parseOr();
  if (peek().t !== 'end') throw new ExpressionError(`unexpected ${describe(peek())}`, peek().at);
  return expr;
}

/** Looks up a name (`tags`, `contact.displayName`, a saved answer…); unknown names are null. */
export type Resolver = (name: string) => Value;

export function evaluate(expr: Expr, resolve: Resolver): Value {
  switch (expr.kind) {
    case 'literal': return expr.value;
    case 'name': return resolve(expr.name);
    case 'list': return expr.items.map((i) => evaluate(i, resolve));
    case 'not': return !truthy(evaluate(expr.operand, resolve));
    case 'logical': {
      const left = truthy(evaluate(expr.left, resolve));
      if (expr.op === 'and') return left && truthy(evaluate(expr.right, resolve));
      return left || truthy(evaluate(expr.right, resolve));
    }
    case 'compare': return compare(expr.op, evaluate(expr.left, resolve), evaluate(expr.right, resolve));
  }
}

export function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== null && v !== false && v !== 0 && v !== '';
}

function asNumber(v: Value): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*-?[0-9]+(\.[0-9]+)?\s*$/.test(v)) return Number(v);
  return null;
}

/** Numbers compare as numbers (a saved "7" equals 7); everything else compares exactly. */
function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]!));
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const x = asNumber(a);
    const y = asNumber(b);
    return x !== null && y !== null && x === y;
  }
  return a === b;
}

function compare(op: CompareOp, a: Value, b: Value): boolean {
  switch (op) {
    case '==': return equal(a, b);
    case '!=': return !equal(a, b);
    case 'in': return contains(b, a);
    case 'not in': return !contains(b, a);
    default: {
      const x = asNumber(a);
      const y = asNumber(b);
      let c: number;
      if (x !== null && y !== null) c = x - y;
      else if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
      else return false;
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    }
  }
}

function contains(haystack: Value, needle: Value): boolean {
  if (Array.isArray(haystack)) return haystack.some((h) => equal(h, needle));
  if (typeof haystack === 'string' && typeof needle === 'string') return haystack.includes(needle);
  return false;
}
