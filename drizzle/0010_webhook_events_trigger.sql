-- Coupon events for the shop's own systems, written by the same transaction as the change they
-- report, whichever code path made it (the redeem function, the statement path, the expiry sweep,
-- delivery outcomes, the till). With no endpoint configured this is one look at an empty table.
CREATE OR REPLACE FUNCTION chatcoupon_coupon_webhook_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_types text[] := '{}';
  v_type text;
  v_id text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    v_types := ARRAY['coupon.issued'];
  ELSE
    IF OLD.opened_at IS NULL AND NEW.opened_at IS NOT NULL THEN v_types := v_types || 'coupon.opened'::text; END IF;
    IF OLD.redeemed_at IS NULL AND NEW.redeemed_at IS NOT NULL THEN v_types := v_types || 'coupon.redeemed'::text; END IF;
    IF NEW.status = 'verified' AND OLD.status <> 'verified' THEN v_types := v_types || 'coupon.verified'::text; END IF;
    IF OLD.status = 'verified' AND NEW.status = 'redeemed' THEN v_types := v_types || 'coupon.voided'::text; END IF;
    IF NEW.status = 'expired' AND OLD.status <> 'expired' THEN v_types := v_types || 'coupon.expired'::text; END IF;
    IF NEW.delivery_status = 'failed' AND OLD.delivery_status <> 'failed' THEN v_types := v_types || 'coupon.delivery_failed'::text; END IF;
    -- A redemption takes stock: look at the campaign's thresholds after commit.
    IF OLD.redeemed_at IS NULL AND NEW.redeemed_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE events && ARRAY['campaign.low_stock', 'campaign.sold_out']) THEN
      INSERT INTO webhook_stock_checks (campaign_id) VALUES (NEW.campaign_id);
    END IF;
  END IF;
  FOREACH v_type IN ARRAY v_types LOOP
    IF EXISTS (SELECT 1 FROM webhook_endpoints WHERE v_type = ANY(events)) THEN
      v_id := 'evt_' || replace(gen_random_uuid()::text, '-', '');
      INSERT INTO webhook_events (id, type, coupon_id, campaign_id, payload)
      VALUES (v_id, v_type, NEW.id, NEW.campaign_id, to_jsonb(NEW));
      INSERT INTO webhook_deliveries (event_id, endpoint_id)
      SELECT v_id, e.id FROM webhook_endpoints e WHERE v_type = ANY(e.events);
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER coupons_webhook_events AFTER INSERT OR UPDATE ON coupons
FOR EACH ROW EXECUTE FUNCTION chatcoupon_coupon_webhook_events();
