import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { query, type Tx } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { csvField } from '../coupons/records.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import type { Actor } from './roles.ts';

/** Everything the audit log records. Add here, then call recordAudit where it happens. */
export const auditActions = [
  'campaign.created',
  'campaign.updated',
  'campaign.paused',
  'campaign.resumed',
  'campaign.ended',
  'campaign.archived',
  'campaign.unarchived',
  'campaign.duplicated',
  'campaign.test_sent',
  'serials.loaded',
  'coupon.sent',
  'coupon.verified',
  'coupon.voided',
  'broadcast.started',
  'broadcast.paused',
  'broadcast.resumed',
  'broadcast.cancelled',
  'person.added',
  'person.removed',
  'person.role_changed',
  'token.created',
  'token.revoked',
  'sessions.revoked',
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditTarget {
  type: string;
  id: string;
  name?: string | null;
}

/**
 * Records who did what. Call it with the transaction that makes the change, so the entry and the
 * change commit together (or with the database when the change is a single statement already done).
 */
export async function recordAudit(
  tx: Tx,
  clock: Clock,
  actor: Actor,
  action: AuditAction,
  target: AuditTarget,
  details: Record<string, unknown> = {},
): Promise<void> {
  await query(tx, sql`
    INSERT INTO audit_log (at, actor_id, actor_name, actor_role, action, target_type, target_id, target_name, details)
    VALUES (${clock()}, ${actor.id}, ${actor.name}, ${actor.role}, ${action}, ${target.type}, ${target.id},
      ${target.name ?? null}, ${JSON.stringify(details)}::jsonb)`);
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: Actor;
  action: string;
  target: AuditTarget;
  details: Record<string, unknown>;
}

const auditQuery = z.object({
  actor: z.string().trim().min(1).max(100).optional(),
  action: z.enum(auditActions).optional(),
  cursor: z.string().regex(/^\d{1,18}$/, 'must be the "next" value of the previous page').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  format: z.enum(['json', 'csv']).default('json'),
});
export type AuditQuery = z.infer<typeof auditQuery>;

export function parseAuditQuery(query: unknown): AuditQuery {
  return parseOrThrow(auditQuery, query);
}

interface AuditRow {
  id: number;
  at: Date;
  actorId: string;
  actorName: string;
  actorRole: string;
  action: string;
  targetType: string;
  targetId: string;
  targetName: string | null;
  details: Record<string, unknown>;
}

/** Newest first; `cursor` is the id the next page starts below. */
export async function auditPage(tx: Tx, q: AuditQuery, before?: number): Promise<AuditEntry[]> {
  const cursor = before ?? (q.cursor ? Number(q.cursor) : null);
  const r = await query(tx, sql`
    SELECT id, at, actor_id AS "actorId", actor_name AS "actorName", actor_role AS "actorRole", action,
      target_type AS "targetType", target_id AS "targetId", target_name AS "targetName", details
    FROM audit_log
    WHERE (${q.actor ?? null}::text IS NULL OR actor_id = ${q.actor ?? null} OR lower(actor_name) = lower(${q.actor ?? null}))
      AND (${q.action ?? null}::text IS NULL OR action = ${q.action ?? null})
      AND (${cursor}::bigint IS NULL OR id < ${cursor})
    ORDER BY id DESC LIMIT ${q.limit}`);
  return (r.rows as unknown as AuditRow[]).map((row) => ({
    id: Number(row.id),
    at: row.at,
    actor: { id: row.actorId, name: row.actorName, role: row.actorRole as Actor['role'] },
    action: row.action,
    target: { type: row.targetType, id: row.targetId, name: row.targetName },
    details: row.details,
  }));
}

export function auditEntryToJson(e: AuditEntry) {
  return { id: String(e.id), at: e.at.toISOString(), actor: e.actor, action: e.action, target: e.target, details: e.details };
}

export const auditCsvColumns = ['at', 'actor_id', 'actor_name', 'actor_role', 'action', 'target_type', 'target_id', 'target_name', 'details'];

export function auditCsvLine(e: AuditEntry): string {
  return [e.at.toISOString(), e.actor.id, e.actor.name, e.actor.role, e.action, e.target.type, e.target.id, e.target.name ?? '',
    Object.keys(e.details).length ? JSON.stringify(e.details) : ''].map(csvField).join(',') + '\r\n';
}

export function assertAuditAction(action: string): AuditAction {
  if (!(auditActions as readonly string[]).includes(action)) throw new AppError('validation_error', `unknown audit action ${action}`);
  return action as AuditAction;
}
