CREATE TABLE "agent_daily_counts" (
	"person_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"day" text NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "agent_daily_counts_person_id_campaign_id_day_pk" PRIMARY KEY("person_id","campaign_id","day")
);
--> statement-breakpoint
CREATE TABLE "agent_limits" (
	"campaign_id" text PRIMARY KEY NOT NULL,
	"per_agent_per_day" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "coupons" ADD COLUMN "sent_by_id" text;--> statement-breakpoint
ALTER TABLE "coupons" ADD COLUMN "sent_by_name" text;--> statement-breakpoint
ALTER TABLE "agent_limits" ADD CONSTRAINT "agent_limits_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;