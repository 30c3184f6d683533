-- Test sends (coupons.test): chatcoupon_redeem gives a test coupon a TEST- code without touching
-- the per-contact counter or the serial pool (otherwise as in 0002_redeem_rules_from_caller.sql,
-- mirrored by redeemWithFlows in src/coupons/redeem.ts), and the coupon events trigger of
-- 0010_webhook_events_trigger.sql writes no webhook events for test coupons.
CREATE OR REPLACE FUNCTION chatcoupon_redeem(p_token text, p_now timestamptz, p_hints jsonb, p_rules jsonb)
RETURNS TABLE (outcome text, code text, campaign_name text, per_contact_limit integer, serial_id bigint, c coupons)
LANGUAGE plpgsql AS $$
DECLARE
  v_coupon coupons%ROWTYPE;
  v_campaign campaigns%ROWTYPE;
  v_code text;
  v_serial bigint;
  v_hint bigint;
  v_refusal text;
BEGIN
  IF jsonb_typeof(p_rules -> 'expirable') IS DISTINCT FROM 'array' OR jsonb_typeof(p_rules -> 'codeShown') IS DISTINCT FROM 'array'
     OR jsonb_typeof(p_rules -> 'refusals') IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'chatcoupon_redeem: p_rules must carry expirable, codeShown and refusals';
  END IF;
  SELECT * INTO v_coupon FROM coupons WHERE token = p_token FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text, NULL::integer, NULL::bigint, NULL::coupons;
    RETURN;
  END IF;
  SELECT * INTO v_campaign FROM campaigns WHERE id = v_coupon.campaign_id;
  IF (p_rules -> 'codeShown') ? v_coupon.status AND v_coupon.serial_code IS NOT NULL THEN
    RETURN QUERY SELECT 'already'::text, v_coupon.serial_code, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
    RETURN;
  END IF;
  -- The refusal for the effective status (past its deadline an expirable coupon is expired), if any.
  v_refusal := p_rules -> 'refusals' ->> (CASE WHEN (p_rules -> 'expirable') ? v_coupon.status AND v_coupon.expires_at <= p_now
    THEN 'expired' ELSE v_coupon.status END);
  IF v_refusal IS NOT NULL THEN
    RETURN QUERY SELECT v_refusal, NULL::text, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
    RETURN;
  END IF;

  -- A marketer's test send: no limit, no serial; a code that says it is a test.
  IF v_coupon.test THEN
    v_code := 'TEST-' || upper(substr(md5(v_coupon.id), 1, 8));
    UPDATE coupons SET status = 'redeemed', redeemed_at = p_now, opened_at = COALESCE(coupons.opened_at, p_now), serial_code = v_code,
      expires_at = CASE WHEN v_campaign.expiry_mode = 'fromRedeem'
        THEN p_now + make_interval(mins => v_campaign.expiry_minutes) ELSE coupons.expires_at END
    WHERE coupons.id = v_coupon.id
    RETURNING * INTO v_coupon;
    RETURN QUERY SELECT 'redeemed'::text, v_code, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
    RETURN;
  END IF;

  UPDATE contact_campaign_counters SET redeemed = redeemed + 1
  WHERE campaign_id = v_campaign.id AND contact_id = v_coupon.contact_id AND redeemed < v_campaign.per_contact_limit;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'limit_reached'::text, NULL::text, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
    RETURN;
  END IF;

  UPDATE fixed_serials SET taken = taken + 1 WHERE campaign_id = v_campaign.id AND taken < quantity
  RETURNING fixed_serials.code INTO v_code;
  IF NOT FOUND THEN
    v_hint := COALESCE((p_hints ->> v_campaign.id)::bigint, 0);
    UPDATE serials SET coupon_id = v_coupon.id
    WHERE id = (SELECT s.id FROM serials s WHERE s.campaign_id = v_campaign.id AND s.coupon_id IS NULL AND s.id > v_hint
                ORDER BY s.campaign_id, s.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING serials.id, serials.code INTO v_serial, v_code;
    IF NOT FOUND AND v_hint > 0 THEN
      UPDATE serials SET coupon_id = v_coupon.id
      WHERE id = (SELECT s.id FROM serials s WHERE s.campaign_id = v_campaign.id AND s.coupon_id IS NULL
                  ORDER BY s.campaign_id, s.id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING serials.id, serials.code INTO v_serial, v_code;
    END IF;
    IF NOT FOUND THEN
      -- Give the limit back: the pool is empty.
      UPDATE contact_campaign_counters SET redeemed = redeemed - 1
      WHERE campaign_id = v_campaign.id AND contact_id = v_coupon.contact_id;
      RETURN QUERY SELECT 'sold_out'::text, NULL::text, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
      RETURN;
    END IF;
  END IF;

  UPDATE coupons SET status = 'redeemed', redeemed_at = p_now, opened_at = COALESCE(coupons.opened_at, p_now),
    serial_code = v_code, serial_id = v_serial,
    expires_at = CASE WHEN v_campaign.expiry_mode = 'fromRedeem'
      THEN p_now + make_interval(mins => v_campaign.expiry_minutes) ELSE coupons.expires_at END
  WHERE coupons.id = v_coupon.id
  RETURNING * INTO v_coupon;
  RETURN QUERY SELECT 'redeemed'::text, v_code, v_campaign.name, v_campaign.per_contact_limit, v_serial, v_coupon;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION chatcoupon_coupon_webhook_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_types text[] := '{}';
  v_type text;
  v_id text;
BEGIN
  -- A marketer's test send is not the shop's business: no events for it.
  IF NEW.test OR NOT EXISTS (SELECT 1 FROM webhook_endpoints) THEN
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
