import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { campaigns } from '../db/schema.ts';
import { locales, type Locale } from '../i18n/locales.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { canonicalTimeZone, isTimeZone } from '../lib/time-zone.ts';
import { campaignStates, describeReward, stateMoveRefusal, type CampaignState } from './rules.ts';

export type CampaignRow = typeof campaigns.$inferSelect;

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour written as #rrggbb');
/** Campaign dates outside these years are typing mistakes (and year 0000 is not a date PostgreSQL stores). */
export const DATE_RANGE = { from: new Date('2000-01-01T00:00:00Z'), to: new Date('2200-01-01T00:00:00Z') };
const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-12-01T00:00:00Z' })
  .transform((s) => new Date(s))
  .refine((d) => d >= DATE_RANGE.from && d < DATE_RANGE.to, 'must be a date from the year 2000 to 2199');

const reward = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('percent'),
    value: z.number().int('must be a whole number').min(1, 'must be at least 1').max(99, 'must be at most 99'),
    minSpend: z.number().positive().optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as TWD').optional(),
  }).strict(),
  z.object({
    type: z.literal('amount'),
    value: z.number().positive('must be more than 0').max(1e9),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as TWD'),
    minSpend: z.number().positive().optional(),
  }).strict(),
  z.object({
    type: z.literal('gift'),
    text: z.string().trim().min(1, 'is required').max(100, 'must be at most 100 characters'),
    minSpend: z.number().positive().optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as TWD').optional(),
  }).strict(),
], { error: 'must be {"type":"percent","value":N}, {"type":"amount","value":N,"currency":"TWD"} or {"type":"gift","text":"…"}' });

const expiry = z.object({
  mode: z.enum(['fromSend', 'fromRedeem']),
  days: z.number().int('must be a whole number').min(1).max(3650).optional(),
  hours: z.number().int('must be a whole number').min(1).max(87600).optional(),
}).strict().refine((e) => (e.days === undefined) !== (e.hours === undefined), { message: 'give exactly one of days or hours' });

/** Every campaign field as the API takes it (contract field names). */
const campaignFields = z.object({
  name: z.string().trim().min(1, 'is required').max(50, 'must be at most 50 characters'),
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (at most 63), starting with a letter or digit'),
  instructions: z.string().max(10_000, 'must be at most 10000 characters'),
  sendStart: isoDate,
  sendEnd: isoDate,
  expiry,
  redeemBy: isoDate.nullable(),
  perContactLimit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
  barcode: z.enum(['qr', 'code39', 'code128']),
  colors: z.object({ background: color, button: color, buttonText: color }).strict(),
  reward,
  visibility: z.enum(['public', 'private']),
  verification: z.boolean(),
  refusalText: z.string().trim().min(1).max(500, 'must be at most 500 characters').nullable(),
  remindBeforeHours: z.number().int('must be a whole number').min(1).max(720).nullable(),
  locale: z.enum(locales, { error: `must be one of ${locales.join(', ')}` }),
  timeZone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone such as Asia/Taipei').transform(canonicalTimeZone),
  /** `campaign.low_stock` is sent when the stock left falls to this (null: never). */
  lowStockThreshold: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000_000).nullable(),
});

const defaults = {
  instructions: '',
  redeemBy: null,
  perContactLimit: 1,
  barcode: 'qr' as const,
  colors: { background: '#ffffff', button: '#06c755', buttonText: '#ffffff' },
  visibility: 'public' as const,
  verification: false,
  refusalText: null,
  remindBeforeHours: null,
  lowStockThreshold: null,
};

type CampaignFields = z.infer<typeof campaignFields>;

/** Rules between fields, checked on the whole campaign after create or update. */
function crossFieldRules(c: CampaignFields, ctx: z.RefinementCtx): void {
  if (c.sendEnd <= c.sendStart) ctx.addIssue({ code: 'custom', path: ['sendEnd'], message: 'must be after sendStart' });
  if (c.redeemBy && c.redeemBy < c.sendStart) ctx.addIssue({ code: 'custom', path: ['redeemBy'], message: 'must not be before sendStart' });
  if (c.redeemBy && c.expiry.mode === 'fromSend') ctx.addIssue({ code: 'custom', path: ['redeemBy'], message: 'only applies to expiry mode fromRedeem' });
  if (c.visibility === 'private' && c.reward.type === 'percent' && c.reward.value < 5) {
    ctx.addIssue({ code: 'custom', path: ['reward', 'value'], message: 'must be between 5 and 99 for a private chat coupon' });
  }
  if (c.reward.minSpend !== undefined && !c.reward.currency && c.reward.type !== 'amount') {
    ctx.addIssue({ code: 'custom', path: ['reward', 'currency'], message: 'is required with minSpend' });
  }
}

const stateField = z.enum(campaignStates, { error: `must be one of ${campaignStates.join(', ')}` });
const createSchema = campaignFields.partial({
  slug: true, instructions: true, redeemBy: true, perContactLimit: true, barcode: true, colors: true,
  visibility: true, verification: true, refusalText: true, remindBeforeHours: true, locale: true, timeZone: true, lowStockThreshold: true,
}).extend({
  // A campaign may be created paused (to test it first), never ended.
  state: z.enum(['active', 'paused'], { error: 'must be active or paused for a new campaign' }).optional(),
}).strict();
const patchSchema = campaignFields.partial().extend({ state: stateField.optional() }).strict();

function slugify(name: string): string {
  return name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
}

function toColumns(c: CampaignFields) {
  const minutes = c.expiry.days !== undefined ? c.expiry.days * 1440 : c.expiry.hours! * 60;
  return {
    slug: c.slug,
    name: c.name,
    instructions: c.instructions,
    sendStart: c.sendStart,
    sendEnd: c.sendEnd,
    expiryMode: c.expiry.mode,
    expiryMinutes: minutes,
    expiryUnit: c.expiry.days !== undefined ? 'days' as const : 'hours' as const,
    redeemBy: c.redeemBy,
    perContactLimit: c.perContactLimit,
    barcode: c.barcode,
    colorBackground: c.colors.background.toLowerCase(),
    colorButton: c.colors.button.toLowerCase(),
    colorButtonText: c.colors.buttonText.toLowerCase(),
    rewardType: c.reward.type,
    rewardValue: c.reward.type === 'gift' ? null : c.reward.value,
    rewardCurrency: c.reward.currency ?? null,
    rewardText: c.reward.type === 'gift' ? c.reward.text : null,
    minSpend: c.reward.minSpend ?? null,
    visibility: c.visibility,
    verification: c.verification,
    refusalText: c.refusalText,
    remindBeforeHours: c.remindBeforeHours,
    locale: c.locale,
    timeZone: c.timeZone,
    lowStockThreshold: c.lowStockThreshold,
  };
}

/** Where the campaign leaves language and zone unset, the service's defaults apply. */
export function campaignLocale(ctx: AppContext, row: Pick<CampaignRow, 'locale'>): Locale {
  return (locales as readonly string[]).includes(row.locale ?? '') ? row.locale as Locale : ctx.config.DEFAULT_LOCALE;
}

export function campaignTimeZone(ctx: AppContext, row: Pick<CampaignRow, 'timeZone'>): string {
  return row.timeZone ?? ctx.config.TZ_DEFAULT;
}

/** The columns each API field is stored in. */
const fieldColumns: Record<keyof CampaignFields, Array<keyof ReturnType<typeof toColumns>>> = {
  name: ['name'],
  slug: ['slug'],
  instructions: ['instructions'],
  sendStart: ['sendStart'],
  sendEnd: ['sendEnd'],
  expiry: ['expiryMode', 'expiryMinutes', 'expiryUnit'],
  redeemBy: ['redeemBy'],
  perContactLimit: ['perContactLimit'],
  barcode: ['barcode'],
  colors: ['colorBackground', 'colorButton', 'colorButtonText'],
  reward: ['rewardType', 'rewardValue', 'rewardCurrency', 'rewardText', 'minSpend'],
  visibility: ['visibility'],
  verification: ['verification'],
  refusalText: ['refusalText'],
  remindBeforeHours: ['remindBeforeHours'],
  locale: ['locale'],
  timeZone: ['timeZone'],
  lowStockThreshold: ['lowStockThreshold'],
};

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

function toFields(ctx: AppContext, row: CampaignRow): CampaignFields {
  const currency = row.rewardCurrency ?? undefined;
  const minSpend = row.minSpend ?? undefined;
  const extra = { ...(minSpend !== undefined ? { minSpend } : {}), ...(currency ? { currency } : {}) };
  return {
    name: row.name,
    slug: row.slug,
    instructions: row.instructions,
    sendStart: row.sendStart,
    sendEnd: row.sendEnd,
    expiry: row.expiryUnit === 'days'
      ? { mode: row.expiryMode, days: row.expiryMinutes / 1440 }
      : { mode: row.expiryMode, hours: row.expiryMinutes / 60 },
    redeemBy: row.redeemBy,
    perContactLimit: row.perContactLimit,
    barcode: row.barcode,
    colors: { background: row.colorBackground, button: row.colorButton, buttonText: row.colorButtonText },
    reward: row.rewardType === 'gift'
      ? { type: 'gift', text: row.rewardText ?? '', ...extra }
      : row.rewardType === 'amount'
        ? { type: 'amount', value: row.rewardValue ?? 0, currency: currency ?? '', ...(minSpend !== undefined ? { minSpend } : {}) }
        : { type: 'percent', value: row.rewardValue ?? 0, ...extra },
    visibility: row.visibility,
    verification: row.verification,
    refusalText: row.refusalText,
    remindBeforeHours: row.remindBeforeHours,
    locale: campaignLocale(ctx, row),
    timeZone: campaignTimeZone(ctx, row),
    lowStockThreshold: row.lowStockThreshold,
  };
}

/** Validates a whole campaign (fields, then the rules between them); throws one 400 naming every field. */
function validateWhole(c: CampaignFields): CampaignFields {
  return parseOrThrow(campaignFields.superRefine(crossFieldRules), {
    ...c,
    sendStart: c.sendStart.toISOString(),
    sendEnd: c.sendEnd.toISOString(),
    redeemBy: c.redeemBy ? c.redeemBy.toISOString() : null,
  });
}

/** The slug's unique index is the check: a slug in use, or won by a concurrent write, is refused by name. */
async function withFreeSlug<T>(slug: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    if ((e.cause?.code ?? e.code) === '23505') throw new AppError('slug_taken', `slug: "${slug}" is already used by another campaign`);
    throw err;
  }
}

/** A short random slug part: 6 characters of a-z and 0-9. */
function randomSlugPart(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(crypto.randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Creates a campaign. Without a slug it gets one whatever the script of its name: the name's
 * latin letters and digits when it has some (with a short random suffix when that slug is
 * taken), else a short unique one (`c-x7k2qa`).
 */
export async function createCampaign(
  ctx: Pick<AppContext, 'db' | 'clock'> & { config: Pick<AppContext['config'], 'DEFAULT_LOCALE' | 'TZ_DEFAULT'> }, body: unknown,
): Promise<CampaignRow> {
  const { state, ...input } = parseOrThrow(createSchema, body);
  const fromName = slugify(input.name);
  const whole = validateWhole({
    ...defaults, locale: ctx.config.DEFAULT_LOCALE, timeZone: ctx.config.TZ_DEFAULT, ...input,
    slug: input.slug ?? (fromName || `c-${randomSlugPart()}`),
  } as CampaignFields);
  const now = ctx.clock();
  const insert = (slug: string) =>
    withFreeSlug(slug, () => ctx.db.insert(campaigns).values({
      id: newId('cmp'), ...toColumns({ ...whole, slug }), state: state ?? 'active', createdAt: now, updatedAt: now,
    }).returning());
  if (input.slug !== undefined) return (await insert(whole.slug))[0]!;
  // A slug we chose: try another one when it is taken.
  for (let attempt = 0; ; attempt++) {
    const slug = attempt === 0 ? whole.slug : fromName ? `${fromName.slice(0, 56).replace(/-+$/, '')}-${randomSlugPart()}` : `c-${randomSlugPart()}`;
    try {
      return (await insert(slug))[0]!;
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'slug_taken') || attempt >= 5) throw err;
    }
  }
}

/**
 * The campaign these fields describe, for a preview: validated as a create would be (or, with
 * `base`, as a patch of that campaign), never stored. Slugs are not checked against others.
 */
export function draftCampaign(ctx: AppContext, body: unknown, base?: CampaignRow): CampaignRow {
  let whole: CampaignFields;
  if (base) {
    const { state: _state, ...patch } = parseOrThrow(patchSchema, body);
    whole = validateWhole({ ...toFields(ctx, base), ...patch } as CampaignFields);
  } else {
    const { state: _state, ...input } = parseOrThrow(createSchema, body);
    whole = validateWhole({
      ...defaults, locale: ctx.config.DEFAULT_LOCALE, timeZone: ctx.config.TZ_DEFAULT, ...input,
      slug: input.slug ?? (slugify(input.name) || 'c-preview'),
    } as CampaignFields);
  }
  const now = ctx.clock();
  const blank = {
    id: 'cmp_preview', state: 'active' as const, lowStockAlertedAt: null, soldOutAlertedAt: null, imageFile: null, imageType: null,
    createdAt: now, updatedAt: now,
  };
  return { ...blank, ...base, ...toColumns(whole) };
}

export interface CampaignUpdate {
  campaign: CampaignRow;
  /** Flows naming the old or new slug need a reload. */
  slugChanged: boolean;
  /** The state before and after, when the patch changed it. */
  stateChange: { from: CampaignState; to: CampaignState } | null;
}

/** Applies a patch (fields and/or `state`); a state may only move as `stateMoveRefusal` allows. */
export async function updateCampaign(ctx: AppContext, id: string, body: unknown): Promise<CampaignUpdate> {
  const { state, ...patch } = parseOrThrow(patchSchema, body);
  return await ctx.db.transaction(async (tx) => {
    const current = await getCampaignForUpdate(tx, id);
    if (state !== undefined) {
      const refused = stateMoveRefusal(current.state, state);
      if (refused) throw new AppError('conflict', `state: ${refused}`);
    }
    const whole = validateWhole({ ...toFields(ctx, current), ...patch } as CampaignFields);
    if (whole.barcode !== current.barcode && await hasPool(tx, id)) {
      throw new AppError('conflict', 'barcode: cannot change once serials are loaded (they were checked against the current format)');
    }
    // Only the columns of the fields the patch names, and only those that change: a value the
    // patch does not touch is never written back (whatever a read of it turned it into).
    const next = toColumns(whole) as Record<string, unknown>;
    const columns = Object.keys(patch).flatMap((field) => fieldColumns[field as keyof CampaignFields] ?? []);
    const changes = Object.fromEntries(columns.filter((col) => !sameValue(next[col], (current as Record<string, unknown>)[col]))
      .map((col) => [col, next[col]]));
    const stateChange = state !== undefined && state !== current.state ? { from: current.state, to: state } : null;
    if (stateChange) changes.state = state;
    const [row] = await withFreeSlug(whole.slug, () =>
      tx.update(campaigns).set({ ...changes, updatedAt: ctx.clock() }).where(sql`id = ${id}`).returning());
    return { campaign: row!, slugChanged: row!.slug !== current.slug, stateChange };
  });
}

async function getCampaignForUpdate(tx: Tx, id: string): Promise<CampaignRow> {
  const rows = await tx.select().from(campaigns).where(sql`id = ${id}`).for('update');
  if (!rows[0]) throw new AppError('not_found', `campaign ${id} does not exist`);
  return rows[0];
}

async function hasPool(tx: Tx, id: string): Promise<boolean> {
  const r = await query(tx, sql`SELECT EXISTS (SELECT 1 FROM serials WHERE campaign_id = ${id})
    OR EXISTS (SELECT 1 FROM fixed_serials WHERE campaign_id = ${id}) AS has`);
  return (r.rows[0] as { has: boolean }).has;
}

export async function findCampaign(tx: Tx, id: string): Promise<CampaignRow | null> {
  const rows = await tx.select().from(campaigns).where(sql`id = ${id}`);
  return rows[0] ?? null;
}

export async function findCampaignBySlug(tx: Tx, slug: string): Promise<CampaignRow | null> {
  const rows = await tx.select().from(campaigns).where(sql`slug = ${slug}`);
  return rows[0] ?? null;
}

export async function findCampaignIdBySlug(tx: Tx, slug: string): Promise<string | null> {
  const r = await query(tx, sql`SELECT id FROM campaigns WHERE slug = ${slug}`);
  return (r.rows[0] as { id: string } | undefined)?.id ?? null;
}

export async function getCampaign(tx: Tx, id: string): Promise<CampaignRow> {
  const row = await findCampaign(tx, id);
  if (!row) throw new AppError('not_found', `campaign ${id} does not exist`);
  return row;
}

/** Newest first; archived campaigns only when asked for. */
export async function listCampaigns(tx: Tx, opts: { archived?: boolean } = {}): Promise<CampaignRow[]> {
  return await tx.select().from(campaigns).where(opts.archived ? sql`true` : sql`state <> 'archived'`).orderBy(sql`created_at DESC, id`);
}

/**
 * A copy of a campaign to run again: every field, a new name (unless given) and slug, active, with
 * no serials and no coupons. The caller copies the image (`copyCampaignImage`).
 */
export async function duplicateCampaign(ctx: AppContext, id: string, body: unknown): Promise<{ source: CampaignRow; copy: CampaignRow }> {
  const opts = parseOrThrow(z.object({ name: campaignFields.shape.name.optional(), slug: campaignFields.shape.slug.optional() }).strict(), body ?? {});
  const source = await getCampaign(ctx.db, id);
  const { slug: _slug, ...fields } = toFields(ctx, source);
  const copy = await createCampaign(ctx, {
    ...fields, name: opts.name ?? `${source.name.slice(0, 50 - ' (copy)'.length)} (copy)`, ...(opts.slug ? { slug: opts.slug } : {}),
    sendStart: fields.sendStart.toISOString(), sendEnd: fields.sendEnd.toISOString(),
    redeemBy: fields.redeemBy ? fields.redeemBy.toISOString() : null,
  });
  return { source, copy };
}

/** Whether the campaign gives one-time serials (each code once), rather than a fixed code or none. */
export async function hasOneTimeSerials(tx: Tx, id: string): Promise<boolean> {
  const r = await query(tx, sql`SELECT EXISTS (SELECT 1 FROM serials WHERE campaign_id = ${id}) AS one`);
  return (r.rows[0] as { one: boolean }).one;
}

export interface Stock {
  /** `serials`: one-time serials from CSV packs; `fixed`: one code × quantity; `none`: nothing loaded. */
  kind: 'none' | 'serials' | 'fixed';
  total: number;
  left: number;
  soldOut: boolean;
}

/** Exact stock of each campaign, in two queries whatever the number of campaigns. */
export async function stockOf(tx: Tx, ids: string[]): Promise<Map<string, Stock>> {
  const out = new Map<string, Stock>(ids.map((id) => [id, { kind: 'none', total: 0, left: 0, soldOut: true }]));
  if (ids.length === 0) return out;
  const idList = sql.join(ids.map((id) => sql`${id}`), sql`, `);
  const fixed = await query(tx, sql`SELECT campaign_id, quantity, taken FROM fixed_serials WHERE campaign_id IN (${idList})`);
  for (const r of fixed.rows as Array<{ campaign_id: string; quantity: number; taken: number }>) {
    out.set(r.campaign_id, { kind: 'fixed', total: r.quantity, left: r.quantity - r.taken, soldOut: r.quantity - r.taken <= 0 });
  }
  const serial = await query(tx, sql`SELECT campaign_id, count(*)::int AS total, count(*) FILTER (WHERE coupon_id IS NULL)::int AS left
    FROM serials WHERE campaign_id IN (${idList}) GROUP BY campaign_id`);
  for (const r of serial.rows as Array<{ campaign_id: string; total: number; left: number }>) {
    out.set(r.campaign_id, { kind: 'serials', total: r.total, left: r.left, soldOut: r.left <= 0 });
  }
  return out;
}

export function campaignImageUrl(ctx: AppContext, row: CampaignRow): string | null {
  return row.imageFile ? `${ctx.config.PUBLIC_BASE_URL}/images/${row.imageFile}` : null;
}

/** The campaign as the API shows it (contract field names). */
export function campaignToJson(ctx: AppContext, row: CampaignRow, stock?: Stock) {
  const f = toFields(ctx, row);
  return {
    id: row.id,
    ...f,
    sendStart: row.sendStart.toISOString(),
    sendEnd: row.sendEnd.toISOString(),
    redeemBy: row.redeemBy ? row.redeemBy.toISOString() : null,
    imageUrl: campaignImageUrl(ctx, row),
    state: row.state,
    /** The reward in the server's words, so every screen says it the same way. */
    rewardText: describeReward(row),
    ...(stock ? { stock } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
