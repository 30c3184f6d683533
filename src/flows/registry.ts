import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { ChannelName } from '../../adapters/types.ts';
import { query, type Db } from '../db/client.ts';
import type { Logger } from '../lib/logger.ts';
import { checkReferences, formatError, parseFlowFile, type FlowError, type ParsedFile } from './loader.ts';
import type { CouponEventName, Flow } from './types.ts';

export const flowFilePattern = /\.ya?ml$/i;

interface FileState {
  /** The last good version: what runs. */
  flows: Flow[];
  /** Why the file's current content is refused (empty: it is what runs). */
  errors: FlowError[];
  /** Flow ids seen in the current content, even when refused (for the listing). */
  ids: string[];
}

/** Reads every flow file of a directory, in name order. */
export async function readFlowDir(dir: string): Promise<Array<{ file: string; text: string }>> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => flowFilePattern.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Array<{ file: string; text: string }> = [];
  for (const file of names) {
    try {
      out.push({ file, text: await fsp.readFile(path.join(dir, file), 'utf8') });
    } catch (err) {
      // Deleted between readdir and read: it is simply gone. A directory named like a flow file is not one.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR') throw err;
    }
  }
  return out;
}

/** Which of these slugs exist as campaigns. */
export async function existingSlugs(db: Db, slugs: string[]): Promise<Set<string>> {
  if (slugs.length === 0) return new Set();
  const r = await query(db, sql`SELECT slug FROM campaigns WHERE slug IN (${sql.join(slugs.map((s) => sql`${s}`), sql`, `)})`);
  return new Set((r.rows as Array<{ slug: string }>).map((x) => x.slug));
}

/**
 * Validates a set of files together (name order). `previous` holds the versions that run now:
 * a file whose new content is refused keeps its previous flows, and the ids those flows own stay
 * taken, so the file that was just edited is the one refused for a duplicate id.
 */
export function validateFiles(
  files: ParsedFile[], previous: Map<string, Flow[]>, slugs: Set<string> | null,
): Map<string, FileState> {
  const present = new Set(files.map((f) => f.file));
  const owners = new Map<string, string>();
  for (const [file, flows] of previous) if (present.has(file)) for (const f of flows) owners.set(f.id, file);
  const knownIds = new Set<string>([...owners.keys()]);
  // A goto may name a flow that runs: a previous good version, or one from a file without errors of its own.
  for (const f of files) for (const flow of f.flows) knownIds.add(flow.id);

  const out = new Map<string, FileState>();
  for (const parsed of files) {
    checkReferences(parsed, { owners, knownIds, slugs });
    if (parsed.errors.length === 0) {
      for (const [id, file] of owners) if (file === parsed.file) owners.delete(id);
      for (const f of parsed.flows) owners.set(f.id, parsed.file);
      out.set(parsed.file, { flows: parsed.flows, errors: [], ids: parsed.ids.map((i) => i.value) });
    } else {
      // A refused file still claims its ids, so a later file declaring the same id is told so.
      for (const id of parsed.ids) if (!owners.has(id.value)) owners.set(id.value, parsed.file);
      out.set(parsed.file, { flows: previous.get(parsed.file) ?? [], errors: parsed.errors, ids: parsed.ids.map((i) => i.value) });
    }
  }
  return out;
}

export interface FlowListing {
  flows: Array<{ flow: Flow | null; id: string; file: string; loaded: boolean; error?: string }>;
  errors: string[];
  /** The same errors, one object each (file relative to the flows directory). */
  problems: Array<{ file: string; line: number; col: number; message: string; missingCampaign?: string }>;
}

/**
 * The flows that run now, read from FLOWS_DIR: reloaded on change (debounced `fs.watch`) and on
 * `reload()`. A broken file is logged and refused; its last good version keeps running.
 */
export class FlowRegistry {
  readonly dir: string;
  private files = new Map<string, FileState>();
  private active: Flow[] = [];
  private byId = new Map<string, Flow>();
  /** `event` and `event:slug` of every coupon trigger: coupon hooks ask this on every redemption. */
  private couponEvents = new Set<string>();
  private watcher: fs.FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private readonly db: Db;
  private readonly log: Logger;
  /** Tells the other instances to reload too (a file changed here, or a campaign a flow may name). */
  announce: (() => Promise<void>) | null = null;

  /** The channels a flow may name (every plug-in's, on or off); the default plug-ins when absent. */
  private readonly channels: readonly ChannelName[] | undefined;

  constructor(dir: string, db: Db, log: Logger, opts: { channels?: readonly ChannelName[] } = {}) {
    this.dir = path.resolve(dir);
    this.db = db;
    this.log = log;
    this.channels = opts.channels;
  }

  get flows(): readonly Flow[] {
    return this.active;
  }

  get(id: string): Flow | undefined {
    return this.byId.get(id);
  }

  /** Whether a flow has a `coupon` trigger for this event (of this campaign, when given). */
  listensTo(event: CouponEventName, slug?: string): boolean {
    return this.couponEvents.has(slug === undefined ? event : `${event}:${slug}`);
  }

  /**
   * Re-reads every file (concurrent calls run one after the other), then tells the other
   * instances to do the same: a flow edit or a new campaign reaches every instance.
   */
  async reload(): Promise<void> {
    await this.refresh();
    await this.announce?.();
  }

  /** Re-reads every file without telling anyone: the change was announced by another instance. */
  refresh(): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReload(), () => this.doReload());
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    const texts = await readFlowDir(this.dir);
    const parsed = texts.map((t) => parseFlowFile(t.file, t.file, t.text, this.channels ? { channels: this.channels } : {}));
    const slugs = await existingSlugs(this.db, [...new Set(parsed.flatMap((p) => p.slugs.map((s) => s.value)))]);
    const previous = new Map([...this.files].map(([file, state]) => [file, state.flows]));
    const next = validateFiles(parsed, previous, slugs);
    for (const [file, state] of next) {
      const before = this.files.get(file);
      const message = state.errors.map(formatError);
      if (state.errors.length > 0) {
        const same = before && before.errors.map(formatError).join('\n') === message.join('\n');
        if (!same) this.log.warn({ file, errors: message, keeping: state.flows.map((f) => f.id) }, 'flow file refused; keeping its last good version');
      } else if (!before || before.errors.length > 0 || JSON.stringify(before.flows.map((f) => f.id)) !== JSON.stringify(state.flows.map((f) => f.id))) {
        this.log.info({ file, flows: state.flows.map((f) => f.id) }, 'flow file loaded');
      }
    }
    for (const file of this.files.keys()) if (!next.has(file)) this.log.info({ file }, 'flow file removed');
    this.files = next;
    this.active = [...next.values()].flatMap((s) => s.flows);
    this.byId = new Map(this.active.map((f) => [f.id, f]));
    this.couponEvents = new Set(this.active.flatMap((f) => (f.trigger.type === 'coupon' ? [f.trigger.event, `${f.trigger.event}:${f.trigger.campaign}`] : [])));
  }

  /** Loads once, then watches the directory. */
  async start(): Promise<void> {
    await this.refresh();
    try {
      this.watcher = fs.watch(this.dir, (_event, name) => {
        if (name && !flowFilePattern.test(String(name))) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = null;
          this.reload().catch((err: unknown) => this.log.error({ err }, 'flow reload failed'));
        }, 200);
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'flow directory watch failed'));
    } catch (err) {
      this.log.warn({ err, dir: this.dir }, 'flow directory cannot be watched; reload with POST /api/v1/flows/reload');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
    await this.reloading.catch(() => undefined);
  }

  listing(): FlowListing {
    const flows: FlowListing['flows'] = [];
    const errors: string[] = [];
    const problems: FlowListing['problems'] = [];
    for (const [file, state] of [...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const error = state.errors[0] ? formatError(state.errors[0]) : undefined;
      errors.push(...state.errors.map(formatError));
      problems.push(...state.errors.map((e) => ({ ...e, file })));
      const running = new Set(state.flows.map((f) => f.id));
      for (const flow of state.flows) flows.push({ flow, id: flow.id, file, loaded: true, ...(error ? { error } : {}) });
      for (const id of state.ids) if (!running.has(id)) flows.push({ flow: null, id, file, loaded: false, ...(error ? { error } : {}) });
    }
    return { flows, errors, problems };
  }
}
