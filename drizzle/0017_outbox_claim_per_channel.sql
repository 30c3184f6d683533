DROP INDEX "outbox_broadcast_pending_idx";--> statement-breakpoint
DROP INDEX "outbox_live_due_idx";--> statement-breakpoint
DROP INDEX "outbox_bulk_due_idx";--> statement-breakpoint
CREATE INDEX "outbox_broadcast_unsent_idx" ON "outbox" USING btree ("broadcast_id","status") WHERE broadcast_id IS NOT NULL AND status <> 'sent';--> statement-breakpoint
CREATE INDEX "outbox_live_due_idx" ON "outbox" USING btree ("channel","next_attempt_at","seq") WHERE status = 'pending' AND broadcast_id IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_bulk_due_idx" ON "outbox" USING btree ("channel","next_attempt_at","seq") WHERE status = 'pending' AND broadcast_id IS NOT NULL;