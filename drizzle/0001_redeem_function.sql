-- The redemption hot path in one round trip: lock the coupon, enforce the per-contact limit,
-- take a serial (the fixed serial's counter, or one-time serials in the order of
-- serials_available_idx with SKIP LOCKED), start a from-redemption deadline. Mirrors
-- redeemCoupon in src/coupons/redeem.ts, which keeps the multi-statement path for redemptions
-- that trigger flows in the same transaction.
--
-- p_hints maps campaign ids to a serial id below which the caller saw the pool taken: the claim
-- starts its index scan there, so it never steps over the index entries of serials already taken
-- (left in the index until vacuum). A serial below the hint that came back (a rolled-back claim)
-- is still found by the second scan from the start, when nothing is left above the hint.
CREATE OR REPLACE FUNCTION chatcoupon_redeem(p_token text, p_now timestamptz, p_hints jsonb)
RETURNS TABLE (outcome text, code text, campaign_name text, per_contact_limit integer, serial_id bigint, c coupons)
LANGUAGE plpgsql AS $$
DECLARE
  v_coupon coupons%ROWTYPE;
  v_campaign campaigns%ROWTYPE;
  v_code text;
  v_serial bigint;
  v_hint bigint;
BEGIN
  SELECT * INTO v_coupon FROM coupons WHERE token = p_token FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text, NULL::integer, NULL::bigint, NULL::coupons;
    RETURN;
  END IF;
  SELECT * INTO v_campaign FROM campaigns WHERE id = v_coupon.campaign_id;
  IF v_coupon.status IN ('redeemed', 'verified') AND v_coupon.serial_code IS NOT NULL THEN
    RETURN QUERY SELECT 'already'::text, v_coupon.serial_code, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
    RETURN;
  END IF;
  IF v_coupon.status IN ('pending', 'sent', 'opened', 'redeemed') AND v_coupon.expires_at <= p_now THEN
    RETURN QUERY SELECT 'expired'::text, NULL::text, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
    RETURN;
  END IF;
  IF v_coupon.status IN ('pending', 'void', 'expired') THEN
    RETURN QUERY SELECT (CASE v_coupon.status WHEN 'pending' THEN 'not_yet' ELSE v_coupon.status END)::text,
      NULL::text, v_campaign.name, v_campaign.per_contact_limit, NULL::bigint, v_coupon;
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
