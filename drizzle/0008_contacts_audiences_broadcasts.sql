CREATE TABLE "broadcast_recipients" (
	"broadcast_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"seq" integer NOT NULL,
	"channel" text NOT NULL,
	"variant" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"coupon_id" text,
	"outbox_id" text,
	CONSTRAINT "broadcast_recipients_broadcast_id_contact_id_pk" PRIMARY KEY("broadcast_id","contact_id")
);
--> statement-breakpoint
CREATE TABLE "broadcasts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"audience" jsonb NOT NULL,
	"variants" jsonb NOT NULL,
	"holdout_percent" integer DEFAULT 0 NOT NULL,
	"send_at" timestamp with time zone NOT NULL,
	"rate_per_second" integer NOT NULL,
	"quota_mode" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"paced_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "contact_syncs" (
	"id" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"read" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "followed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "last_message_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "coupons" ADD COLUMN "broadcast_id" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "broadcast_id" text;--> statement-breakpoint
CREATE INDEX "broadcast_recipients_pending_idx" ON "broadcast_recipients" USING btree ("broadcast_id","seq") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "broadcasts_due_idx" ON "broadcasts" USING btree ("send_at") WHERE status IN ('scheduled', 'running');--> statement-breakpoint
CREATE INDEX "contacts_tags_idx" ON "contacts" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "contacts_reachable_idx" ON "contacts" USING btree ("channel","id") WHERE unreachable_at IS NULL;--> statement-breakpoint
CREATE INDEX "contacts_last_message_idx" ON "contacts" USING btree ("last_message_at") WHERE unreachable_at IS NULL;--> statement-breakpoint
CREATE INDEX "contacts_followed_idx" ON "contacts" USING btree ("followed_at") WHERE unreachable_at IS NULL;--> statement-breakpoint
CREATE INDEX "contacts_profile_missing_idx" ON "contacts" USING btree ("channel","id") WHERE profile_fetched_at IS NULL AND display_name IS NULL;--> statement-breakpoint
CREATE INDEX "coupons_campaign_contact_idx" ON "coupons" USING btree ("campaign_id","contact_id");--> statement-breakpoint
CREATE INDEX "outbox_broadcast_pending_idx" ON "outbox" USING btree ("broadcast_id") WHERE status = 'pending' AND broadcast_id IS NOT NULL;