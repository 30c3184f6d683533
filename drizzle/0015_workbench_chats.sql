ALTER TABLE "conversations" ADD COLUMN "handoff_taken_by" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "handoff_taken_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "conversations_last_inbound_idx" ON "conversations" USING btree ("last_inbound_at");--> statement-breakpoint
CREATE INDEX "inbound_events_conversation_idx" ON "inbound_events" USING btree ("channel",(event->>'conversationId'),"id") WHERE (event->>'type') = 'message';