import { z } from 'zod';

/**
 * What a refused value needs, in plain words ("is required", "must be a number"), for every
 * check that does not carry its own message. zod's own texts speak of its internals ("Invalid
 * input: expected number, received undefined"); API callers and the admin console both read
 * these instead. Installed once for the process (`z.config`), so YAML flows, env variables and
 * request bodies all speak the same way; a schema's own message still wins.
 */
export function plainIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      if (issue.input === null) return 'must not be empty (null)';
      return `must be ${typeWords[issue.expected] ?? issue.expected}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${shown(issue.values[0])}` : `must be one of: ${issue.values.map(shown).join(', ')}`;
    case 'too_small':
      return sizeWords('at least', 'more than', issue.origin, issue.minimum, issue.inclusive);
    case 'too_big':
      return sizeWords('at most', 'less than', issue.origin, issue.maximum, issue.inclusive);
    case 'invalid_format':
      return formatWords[issue.format] ?? 'is not written the way it should be';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? `has a field we do not know: ${issue.keys[0]}` : `has fields we do not know: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return 'does not match any of the accepted forms';
    case 'invalid_key':
    case 'invalid_element':
      return 'holds a value that is not allowed';
    case 'custom':
      return 'is not valid';
    default:
      return undefined;
  }
}

const typeWords: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object ({…})',
  array: 'a list ([…])',
  date: 'a date',
  bigint: 'a whole number',
  nan: 'not a number',
};

const formatWords: Record<string, string> = {
  datetime: 'must be a date and time with its zone, e.g. 2026-12-01T10:00:00Z',
  date: 'must be a date written as YYYY-MM-DD',
  time: 'must be a time written as HH:MM',
  email: 'must be an email address',
  url: 'must be a web address (https://…)',
  uuid: 'must be a UUID',
  regex: 'is not written the way it should be',
  starts_with: 'does not start the way it should',
  ends_with: 'does not end the way it should',
  includes: 'does not contain what it should',
};

function shown(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function sizeWords(inclusiveWord: string, exclusiveWord: string, origin: string, limit: number | bigint | Date, inclusive: boolean | undefined): string {
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  const n = limit instanceof Date ? limit.toISOString() : String(limit);
  switch (origin) {
    case 'string':
      if (word === 'at least' && n === '1') return 'must not be empty';
      return `must be ${word} ${n} character${n === '1' ? '' : 's'}`;
    case 'array':
    case 'set':
      if (word === 'at least' && n === '1') return 'must not be empty';
      return `must have ${word} ${n} item${n === '1' ? '' : 's'}`;
    case 'date':
      return `must be ${word === inclusiveWord ? (inclusiveWord === 'at least' ? 'on or after' : 'on or before') : (inclusiveWord === 'at least' ? 'after' : 'before')} ${n}`;
    default:
      return `must be ${word} ${n}`;
  }
}

z.config({ customError: plainIssueMessage });
