CREATE TABLE "app_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" text PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"instructions" text DEFAULT '' NOT NULL,
	"send_start" timestamp with time zone NOT NULL,
	"send_end" timestamp with time zone NOT NULL,
	"expiry_mode" text NOT NULL,
	"expiry_minutes" integer NOT NULL,
	"expiry_unit" text NOT NULL,
	"redeem_by" timestamp with time zone,
	"per_contact_limit" integer NOT NULL,
	"barcode" text NOT NULL,
	"color_background" text NOT NULL,
	"color_button" text NOT NULL,
	"color_button_text" text NOT NULL,
	"reward_type" text NOT NULL,
	"reward_value" numeric,
	"reward_currency" text,
	"reward_text" text,
	"min_spend" numeric,
	"visibility" text NOT NULL,
	"verification" boolean NOT NULL,
	"refusal_text" text,
	"remind_before_hours" integer,
	"image_file" text,
	"image_type" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contact_campaign_counters" (
	"campaign_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"held" integer DEFAULT 0 NOT NULL,
	"redeemed" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "contact_campaign_counters_campaign_id_contact_id_pk" PRIMARY KEY("campaign_id","contact_id")
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"platform_user_id" text NOT NULL,
	"display_name" text,
	"me_token" text NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"unreachable_at" timestamp with time zone,
	"profile_fetched_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" text PRIMARY KEY NOT NULL,
	"contact_id" text NOT NULL,
	"channel" text NOT NULL,
	"external_id" text NOT NULL,
	"last_inbound_at" timestamp with time zone,
	"handoff_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coupon_resends" (
	"released_coupon_id" text PRIMARY KEY NOT NULL,
	"new_coupon_id" text,
	"outcome" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coupons" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"conversation_id" text,
	"token" text NOT NULL,
	"status" text NOT NULL,
	"delivery_status" text DEFAULT 'pending' NOT NULL,
	"delivery_error" text,
	"source" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"opened_at" timestamp with time zone,
	"redeemed_at" timestamp with time zone,
	"verified_at" timestamp with time zone,
	"verified_by" text,
	"expired_at" timestamp with time zone,
	"void_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"reminded_at" timestamp with time zone,
	"serial_code" text,
	"serial_id" bigint
);
--> statement-breakpoint
CREATE TABLE "fixed_serials" (
	"campaign_id" text PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"quantity" integer NOT NULL,
	"taken" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "fixed_serials_taken_le_quantity" CHECK ("fixed_serials"."taken" <= "fixed_serials"."quantity")
);
--> statement-breakpoint
CREATE TABLE "flow_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"contact_id" text NOT NULL,
	"conversation_id" text,
	"flow_id" text NOT NULL,
	"start_flow_id" text NOT NULL,
	"status" text NOT NULL,
	"step_path" text,
	"waiting_for" text,
	"resume_at" timestamp with time zone,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"end_reason" text,
	"trigger_key" text,
	"started_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "flow_step_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"flow_id" text NOT NULL,
	"step_path" text NOT NULL,
	"step_type" text NOT NULL,
	"contact_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inbound_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"event_key" text NOT NULL,
	"event" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"channel" text NOT NULL,
	"contact_id" text NOT NULL,
	"conversation_id" text,
	"coupon_id" text,
	"message" jsonb NOT NULL,
	"reply_token" text,
	"reply_token_expires_at" timestamp with time zone,
	"reply_used" boolean DEFAULT false NOT NULL,
	"retry_key" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"platform_response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "serial_imports" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"status" text NOT NULL,
	"read" integer DEFAULT 0 NOT NULL,
	"loaded" integer DEFAULT 0 NOT NULL,
	"rejected_count" integer DEFAULT 0 NOT NULL,
	"rejected" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"file_path" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "serials" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"code" text NOT NULL,
	"coupon_id" text,
	"import_id" text
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fixed_serials" ADD CONSTRAINT "fixed_serials_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_runs" ADD CONSTRAINT "flow_runs_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "serial_imports" ADD CONSTRAINT "serial_imports_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "serials" ADD CONSTRAINT "serials_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "campaigns_slug_key" ON "campaigns" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_channel_user_key" ON "contacts" USING btree ("channel","platform_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_me_token_key" ON "contacts" USING btree ("me_token");--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_channel_external_key" ON "conversations" USING btree ("channel","external_id");--> statement-breakpoint
CREATE INDEX "conversations_contact_idx" ON "conversations" USING btree ("contact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "coupon_resends_new_coupon_key" ON "coupon_resends" USING btree ("new_coupon_id");--> statement-breakpoint
CREATE UNIQUE INDEX "coupons_token_key" ON "coupons" USING btree ("token");--> statement-breakpoint
CREATE INDEX "coupons_campaign_idx" ON "coupons" USING btree ("campaign_id","issued_at");--> statement-breakpoint
CREATE INDEX "coupons_contact_idx" ON "coupons" USING btree ("contact_id","issued_at");--> statement-breakpoint
CREATE INDEX "coupons_serial_code_idx" ON "coupons" USING btree ("serial_code");--> statement-breakpoint
CREATE INDEX "coupons_expiry_idx" ON "coupons" USING btree ("expires_at") WHERE status IN ('pending', 'sent', 'opened', 'redeemed');--> statement-breakpoint
CREATE UNIQUE INDEX "flow_runs_one_active_key" ON "flow_runs" USING btree ("contact_id") WHERE status IN ('running', 'waiting');--> statement-breakpoint
CREATE INDEX "flow_runs_resume_idx" ON "flow_runs" USING btree ("resume_at") WHERE status = 'waiting' AND waiting_for = 'resume';--> statement-breakpoint
CREATE UNIQUE INDEX "flow_runs_trigger_key" ON "flow_runs" USING btree ("trigger_key");--> statement-breakpoint
CREATE INDEX "flow_step_runs_flow_idx" ON "flow_step_runs" USING btree ("flow_id","step_path");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_events_channel_key" ON "inbound_events" USING btree ("channel","event_key");--> statement-breakpoint
CREATE INDEX "inbound_events_unprocessed_idx" ON "inbound_events" USING btree ("id") WHERE processed_at IS NULL;--> statement-breakpoint
CREATE INDEX "inbound_events_contact_open_idx" ON "inbound_events" USING btree ("channel",(event->>'userId'),"id") WHERE processed_at IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "outbox" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_contact_idx" ON "outbox" USING btree ("contact_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "serials_campaign_code_key" ON "serials" USING btree ("campaign_id","code");--> statement-breakpoint
CREATE INDEX "serials_available_idx" ON "serials" USING btree ("campaign_id","id") WHERE coupon_id IS NULL;