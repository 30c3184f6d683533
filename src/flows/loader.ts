import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node as YamlNode, type Pair } from 'yaml';
import { z } from 'zod';
import { channelPlugins } from '../../adapters/index.ts';
import type { ChannelName } from '../../adapters/types.ts';
import { ExpressionError, parseExpression } from './expression.ts';
import { normaliseText } from './normalise.ts';
import { parseDuration } from './steps/wait.ts';
import { stepTypes, type Flow, type Step, type StepType, type Trigger } from './types.ts';

/**
 * Reads one flow file: YAML with source positions, zod for the shape, then the checks zod cannot
 * express (one step kind per step, regexes, expressions, durations). References to other files
 * and to the database (goto targets, duplicate ids, campaign slugs) are checked by
 * `checkReferences` once every file is read.
 */
export interface FlowError {
  file: string;
  line: number;
  col: number;
  message: string;
  /** The slug of a campaign the file names and that does not exist (for the console's wording). */
  missingCampaign?: string;
}

export const formatError = (e: FlowError): string => `${e.file}:${e.line}:${e.col}: ${e.message}`;

interface Located<T> {
  value: T;
  line: number;
  col: number;
}

export interface ParsedFile {
  /** Path as shown in errors. */
  path: string;
  /** Name relative to the flows directory (the flows' `file`). */
  file: string;
  flows: Flow[];
  errors: FlowError[];
  ids: Array<Located<string>>;
  gotos: Array<Located<string>>;
  slugs: Array<Located<string>>;
}

export const MAX_QUICK_REPLIES = 13;
export const MAX_LABEL = 20;
const MAX_WAIT_MS = 90 * 86_400_000;

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a campaign slug: lowercase letters, digits and dashes');
const flowId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'must be letters, digits, "-" and "_" (at most 63), starting with a letter or digit');
const savedName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a name of letters, digits and "_" (e.g. birthMonth)')
  .refine((n) => !['tags', 'channel', 'contact', 'coupon', 'now', 'and', 'or', 'not', 'in', 'true', 'false', 'null'].includes(n), 'is a reserved name');
const tagName = z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters');
const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const label = z.string().min(1, 'must not be empty').max(MAX_LABEL, `must be at most ${MAX_LABEL} characters (LINE's quick reply limit)`);
const quickReplies = z.array(z.union([label, z.object({ label, payload: z.string().min(1).max(300).optional() }).strict()]))
  .max(MAX_QUICK_REPLIES, `at most ${MAX_QUICK_REPLIES} quick replies`);
const stepList = z.array(z.unknown(), 'must be a list of steps');

const triggerSchema = z.object({
  follow: z.literal(true, 'must be true').optional(),
  keyword: z.union([text(100), z.array(text(100)).min(1, 'must list at least one keyword')]).optional(),
  pattern: text(500).optional(),
  postback: text(300).optional(),
  ref: text(300).optional(),
  coupon: z.object({ event: z.enum(['redeemed', 'expiring', 'expired']), campaign: slug }).strict().optional(),
}, 'must be a mapping such as { follow: true } or { keyword: [hello] }').strict();

/** A flow's schema, for the channels the service knows. */
const flowSchemaFor = (channels: readonly ChannelName[]) => z.object({
  id: flowId,
  name: text(100).optional(),
  channels: z.array(z.enum(channels as [ChannelName, ...ChannelName[]])).min(1, 'must list at least one channel').optional(),
  interrupt: z.boolean().optional(),
  trigger: triggerSchema,
  steps: stepList.min(1, 'must have at least one step'),
}, 'a flow must be a mapping with id, trigger and steps').strict();
const defaultChannels = channelPlugins.map((p) => p.name);
const defaultFlowSchema = flowSchemaFor(defaultChannels);

const stepSchemas: Record<StepType, z.ZodType> = {
  say: z.object({
    say: z.union([text(2000), z.object({ text: text(2000), image: z.url({ protocol: /^https$/, error: 'must be an https:// URL (LINE and Messenger show only https images)' }).optional(), quickReplies: quickReplies.optional() }).strict()]),
  }).strict(),
  coupon: z.object({ coupon: slug, else: stepList.optional() }).strict(),
  ask: z.object({
    ask: text(2000),
    expect: z.enum(['text', 'number', 'email', 'phone', 'choice']),
    choices: z.array(label).min(1).max(MAX_QUICK_REPLIES, `at most ${MAX_QUICK_REPLIES} choices (they are quick replies)`).optional(),
    save: savedName,
    retry: text(2000).optional(),
    retries: z.number().int().min(0).max(10).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    else: stepList.optional(),
  }).strict(),
  if: z.object({ if: text(1000), then: stepList, else: stepList.optional() }).strict(),
  wait: z.object({ wait: z.string() }).strict(),
  tag: z.object({ tag: z.union([tagName, z.array(tagName).min(1)]) }).strict(),
  untag: z.object({ untag: z.union([tagName, z.array(tagName).min(1)]) }).strict(),
  handoff: z.object({ handoff: z.union([z.literal(true), text(2000)], 'must be true or the text to send') }).strict(),
  goto: z.object({ goto: flowId }).strict(),
};

type Path = Array<string | number>;

/**
 * A value that fits no branch of a union (e.g. `say:` as text or as a mapping): report the
 * problems of the branch of the right type instead of zod's bare "Invalid input".
 */
function flattenUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) {
      out.push(issue);
      continue;
    }
    const wrongType = (branch: readonly z.core.$ZodIssue[]) => branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0;
    const branch = issue.errors.find((b) => !wrongType(b));
    if (!branch) {
      out.push(issue);
      continue;
    }
    out.push(...flattenUnions(branch.map((b) => ({ ...b, path: [...issue.path, ...b.path] }))));
  }
  return out;
}

class FileReader {
  readonly out: ParsedFile;
  private doc!: Document;
  private readonly lc: LineCounter;

  private readonly flowSchema: ReturnType<typeof flowSchemaFor>;

  constructor(path: string, file: string, lc: LineCounter, flowSchema: ReturnType<typeof flowSchemaFor>) {
    this.out = { path, file, flows: [], errors: [], ids: [], gotos: [], slugs: [] };
    this.lc = lc;
    this.flowSchema = flowSchema;
  }

  setDocument(doc: Document): void {
    this.doc = doc;
  }

  pos(offset: number): { line: number; col: number } {
    const p = this.lc.linePos(offset);
    return { line: p.line, col: p.col };
  }

  errorAt(offset: number, message: string): void {
    this.out.errors.push({ file: this.out.path, ...this.pos(offset), message });
  }

  /** The deepest existing node on the path. */
  node(path: Path): YamlNode | null {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as YamlNode | undefined;
      if (node && (node as { range?: unknown }).range) return node;
      if (n === 0) return (this.doc.contents as YamlNode | null) ?? null;
    }
    return null;
  }

  keyNode(path: Path, key: string): YamlNode | null {
    const parent = this.node(path);
    if (!parent || !isMap(parent)) return null;
    const pair = parent.items.find((p: Pair) => isScalar(p.key) && String(p.key.value) === key);
    return pair && isScalar(pair.key) ? pair.key : null;
  }

  offsetOf(path: Path): number {
    return this.node(path)?.range?.[0] ?? 0;
  }

  located<T>(path: Path, value: T): Located<T> {
    return { value, ...this.pos(this.offsetOf(path)) };
  }

  zodErrors(base: Path, error: z.ZodError, what: string): void {
    for (const issue of flattenUnions(error.issues)) {
      const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const node = this.keyNode(path, key);
          this.errorAt(node?.range?.[0] ?? this.offsetOf(path), `unknown key "${key}" in ${what}`);
        }
        continue;
      }
      const name = [...issue.path].reverse().find((p) => typeof p === 'string');
      this.errorAt(this.offsetOf(path), name ? `${String(name)}: ${issue.message}` : issue.message);
    }
  }

  readFlow(value: unknown): void {
    const parsed = this.flowSchema.safeParse(value);
    if (!parsed.success) {
      this.zodErrors([], parsed.error, 'a flow');
      // Keep checking the steps, so one run reports as much as it can.
      const steps = (value as { steps?: unknown } | null)?.steps;
      if (Array.isArray(steps)) this.readSteps(['steps'], steps);
      return;
    }
    const f = parsed.data;
    const before = this.out.errors.length;
    const trigger = this.readTrigger(f.trigger);
    const steps = this.readSteps(['steps'], f.steps);
    this.out.ids.push(this.located(['id'], f.id));
    if (!trigger || this.out.errors.length > before) return;
    this.out.flows.push({
      id: f.id,
      ...(f.name !== undefined ? { name: f.name } : {}),
      channels: f.channels ?? null,
      ...(f.interrupt !== undefined ? { interrupt: f.interrupt } : {}),
      trigger,
      steps,
      file: this.out.file,
    });
  }

  readTrigger(t: z.infer<typeof triggerSchema>): Trigger | null {
    const kinds = (Object.keys(t) as Array<keyof typeof t>).filter((k) => t[k] !== undefined);
    if (kinds.length !== 1) {
      this.errorAt(this.offsetOf(['trigger']), kinds.length === 0
        ? 'trigger: give one of follow, keyword, pattern, postback, ref or coupon'
        : `trigger: give only one of ${kinds.join(', ')}`);
      return null;
    }
    const kind = kinds[0]!;
    switch (kind) {
      case 'follow': return { type: 'follow' };
      case 'keyword': {
        const keywords = Array.isArray(t.keyword) ? t.keyword : [t.keyword!];
        return { type: 'keyword', keywords, normalised: keywords.map(normaliseText) };
      }
      case 'pattern':
        try {
          return { type: 'pattern', pattern: t.pattern!, regex: new RegExp(t.pattern!, 'iu') };
        } catch (err) {
          this.errorAt(this.offsetOf(['trigger', 'pattern']), `pattern: the regex does not compile: ${(err as Error).message}`);
          return null;
        }
      case 'postback': return { type: 'postback', payload: t.postback! };
      case 'ref': return { type: 'ref', ref: t.ref! };
      case 'coupon':
        this.out.slugs.push(this.located(['trigger', 'coupon', 'campaign'], t.coupon!.campaign));
        return { type: 'coupon', event: t.coupon!.event, campaign: t.coupon!.campaign };
    }
  }

  readSteps(base: Path, list: unknown[]): Step[] {
    const steps: Step[] = [];
    list.forEach((raw, i) => {
      const step = this.readStep([...base, i], raw);
      if (step) steps.push(step);
    });
    return steps;
  }

  readStep(path: Path, raw: unknown): Step | null {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.errorAt(this.offsetOf(path), `a step must be a mapping such as "say: Hello" (one of ${stepTypes.join(', ')})`);
      return null;
    }
    const keys = Object.keys(raw);
    const kinds = keys.filter((k): k is StepType => (stepTypes as readonly string[]).includes(k));
    if (kinds.length === 0) {
      const first = keys[0];
      const node = first !== undefined ? this.keyNode(path, first) : null;
      this.errorAt(node?.range?.[0] ?? this.offsetOf(path), `unknown step${first !== undefined ? ` "${first}"` : ''}: expected one of ${stepTypes.join(', ')}`);
      return null;
    }
    if (kinds.length > 1) {
      const node = this.keyNode(path, kinds[1]!);
      this.errorAt(node?.range?.[0] ?? this.offsetOf(path), `one step per list item: found both "${kinds[0]}" and "${kinds[1]}" (start the second with "- ")`);
      return null;
    }
    const kind = kinds[0]!;
    const parsed = stepSchemas[kind].safeParse(raw);
    const r = raw as Record<string, unknown>;
    if (!parsed.success) {
      this.zodErrors(path, parsed.error, `${kind === 'ask' ? 'an' : 'a'} ${kind} step`);
      for (const branch of ['then', 'else']) if (Array.isArray(r[branch])) this.readSteps([...path, branch], r[branch] as unknown[]);
      return null;
    }
    const s = parsed.data as Record<string, unknown>;
    const sub = (branch: 'then' | 'else') => (Array.isArray(s[branch]) ? this.readSteps([...path, branch], s[branch] as unknown[]) : undefined);
    switch (kind) {
      case 'say': {
        if (typeof s.say === 'string') return { type: 'say', text: s.say };
        const o = s.say as { text: string; image?: string; quickReplies?: Array<string | { label: string; payload?: string }> };
        return {
          type: 'say', text: o.text,
          ...(o.image ? { image: o.image } : {}),
          ...(o.quickReplies ? { quickReplies: o.quickReplies.map((q) => (typeof q === 'string' ? { label: q } : q)) } : {}),
        };
      }
      case 'coupon': {
        this.out.slugs.push(this.located([...path, 'coupon'], s.coupon as string));
        const otherwise = sub('else');
        return { type: 'coupon', campaign: s.coupon as string, ...(otherwise ? { else: otherwise } : {}) };
      }
      case 'ask': {
        const a = s as { ask: string; expect: Extract<Step, { type: 'ask' }>['expect']; choices?: string[]; save: string; retry?: string; retries?: number; min?: number; max?: number };
        if (a.expect === 'choice' && !a.choices) { this.errorAt(this.offsetOf([...path, 'expect']), 'choices: required with expect: choice'); return null; }
        if (a.expect !== 'choice' && a.choices) { this.errorAt(this.offsetOf([...path, 'choices']), 'choices: only with expect: choice'); return null; }
        if ((a.min !== undefined || a.max !== undefined) && a.expect !== 'number') {
          this.errorAt(this.offsetOf([...path, a.min !== undefined ? 'min' : 'max']), 'min/max: only with expect: number');
          return null;
        }
        const otherwise = sub('else');
        return {
          type: 'ask', ask: a.ask, expect: a.expect, save: a.save, retries: a.retries ?? 2,
          ...(a.choices ? { choices: a.choices } : {}),
          ...(a.retry !== undefined ? { retry: a.retry } : {}),
          ...(a.min !== undefined ? { min: a.min } : {}),
          ...(a.max !== undefined ? { max: a.max } : {}),
          ...(otherwise ? { else: otherwise } : {}),
        };
      }
      case 'if': {
        const source = s.if as string;
        const thenSteps = sub('then') ?? [];
        const elseSteps = sub('else') ?? [];
        try {
          return { type: 'if', source, expr: parseExpression(source), then: thenSteps, else: elseSteps };
        } catch (err) {
          if (!(err instanceof ExpressionError)) throw err;
          this.errorAt(this.expressionOffset([...path, 'if'], err.offset), `if: ${err.message}`);
          return null;
        }
      }
      case 'wait': {
        const ms = parseDuration(s.wait as string);
        if (ms === null || ms > MAX_WAIT_MS) {
          this.errorAt(this.offsetOf([...path, 'wait']), `wait: ${ms === null ? 'must be a duration such as 30s, 10m, 2h or 3d' : 'must be at most 90d'}`);
          return null;
        }
        return { type: 'wait', source: s.wait as string, ms };
      }
      case 'tag':
      case 'untag': {
        const v = s[kind] as string | string[];
        return { type: kind, tags: (Array.isArray(v) ? v : [v]).map((t) => t.trim()) };
      }
      case 'handoff':
        return { type: 'handoff', ...(typeof s.handoff === 'string' ? { text: s.handoff } : {}) };
      case 'goto':
        this.out.gotos.push(this.located([...path, 'goto'], s.goto as string));
        return { type: 'goto', flowId: s.goto as string };
    }
  }

  /** Points inside a one-line expression when the scalar is written plainly or quoted. */
  expressionOffset(path: Path, offset: number): number {
    const node = this.node(path);
    const start = node?.range?.[0] ?? 0;
    if (!node || !isScalar(node)) return start;
    if (node.type === 'PLAIN') return start + offset;
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') return start + 1 + offset;
    return start;
  }
}

/** Parses and validates one file's text. A file holds one flow, or several separated by `---`. */
export function parseFlowFile(path: string, file: string, source: string, opts: { channels?: readonly ChannelName[] } = {}): ParsedFile {
  const lc = new LineCounter();
  const schema = !opts.channels || opts.channels.join() === defaultChannels.join() ? defaultFlowSchema : flowSchemaFor(opts.channels);
  const reader = new FileReader(path, file, lc, schema);
  const docs = parseAllDocuments(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    reader.errorAt(0, 'the file is empty');
    return reader.out;
  }
  let syntaxErrors = false;
  for (const doc of list) {
    for (const e of [...doc.errors]) {
      reader.errorAt(e.pos[0], `YAML: ${e.message.split('\n')[0]}`);
      syntaxErrors = true;
    }
  }
  if (syntaxErrors) return reader.out;
  for (const doc of list) {
    reader.setDocument(doc);
    reader.readFlow(doc.toJS({ maxAliasCount: 100 }));
  }
  const seen = new Map<string, Located<string>>();
  for (const id of reader.out.ids) {
    const first = seen.get(id.value);
    if (first) reader.out.errors.push({ file: path, line: id.line, col: id.col, message: `id: "${id.value}" is already used by another flow in this file (line ${first.line})` });
    else seen.set(id.value, id);
  }
  if (reader.out.errors.length > 0) reader.out.flows = [];
  reader.out.errors.sort((a, b) => a.line - b.line || a.col - b.col);
  return reader.out;
}

export interface ReferenceContext {
  /** Which file owns each flow id outside the file being checked. */
  owners: Map<string, string>;
  /** Every flow id a `goto` may name. */
  knownIds: Set<string>;
  /** Existing campaign slugs, or null when they cannot be checked. */
  slugs: Set<string> | null;
}

/** Cross-file and database checks; appends errors to the file and empties its flows on any. */
export function checkReferences(parsed: ParsedFile, ref: ReferenceContext): void {
  const add = (l: Located<string>, message: string, missingCampaign?: string) => parsed.errors.push({
    file: parsed.path, line: l.line, col: l.col, message, ...(missingCampaign ? { missingCampaign } : {}),
  });
  for (const id of parsed.ids) {
    const owner = ref.owners.get(id.value);
    if (owner !== undefined && owner !== parsed.file) add(id, `id: "${id.value}" is already used by a flow in ${owner}`);
  }
  for (const g of parsed.gotos) {
    if (!ref.knownIds.has(g.value)) add(g, `goto: there is no flow with id "${g.value}"`);
  }
  if (ref.slugs) {
    for (const s of parsed.slugs) {
      if (!ref.slugs.has(s.value)) add(s, `campaign "${s.value}" does not exist (create it first: POST /api/v1/campaigns with "slug": "${s.value}")`, s.value);
    }
  }
  if (parsed.errors.length > 0) {
    parsed.flows = [];
    parsed.errors.sort((a, b) => a.line - b.line || a.col - b.col);
  }
}
