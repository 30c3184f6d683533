-- chatcoupon_redeem no longer keeps status lists of its own: the caller hands it the rules
-- (p_rules: {"expirable": [...], "codeShown": [...], "refusals": {status: outcome}}) built from
-- src/coupons/statuses.ts, the one place they are defined (redeemRulesJson). Otherwise as in
-- 0001_redeem_function.sql: lock the coupon, enforce the per-contact limit, take a serial (the
-- fixed serial's counter, or one-time serials in the order of serials_available_idx with SKIP
-- LOCKED, starting above p_hints' serial id for the campaign), start a from-redemption deadline.
-- Mirrors redeemWithFlows in src/coupons/redeem.ts.
DROP FUNCTION IF EXISTS chatcoupon_redeem(text, timestamptz, jsonb);
--> statement-breakpoint
CREATE FUNCTION chatcoupon_redeem(p_token text, p_now timestamptz, p_hints jsonb, p_rules jsonb)
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
