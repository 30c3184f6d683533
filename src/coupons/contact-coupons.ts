import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { isShownToCustomerSql } from './rules-sql.ts';
import { effectiveStatus, type CouponStatus, type RewardFields } from './rules.ts';
import { query } from '../db/client.ts';

export interface ContactCoupon {
  token: string;
  campaignName: string;
  reward: RewardFields;
  /** The campaign's time zone. */
  timeZone: string;
  /** The campaign's locale, for a page that has nothing better to go by. */
  campaignLocale: string | null;
  /** The status a reader sees now (past its deadline: expired). */
  status: CouponStatus;
  expiresAt: Date | null;
  issuedAt: Date;
  redeemedAt: Date | null;
  verifiedAt: Date | null;
}

export interface ContactCoupons {
  contactId: string;
  displayName: string | null;
  /** The contact's language (platform profile, import or PATCH), as stored. */
  language: string | null;
  coupons: ContactCoupon[];
}

/** A long list is cut here; nobody scrolls past it on a phone. */
const MAX_COUPONS = 200;

interface Row extends RewardFields {
  contactId: string;
  displayName: string | null;
  language: string | null;
  timeZone: string | null;
  locale: string | null;
  token: string | null;
  status: CouponStatus | null;
  expiresAt: Date | null;
  issuedAt: Date | null;
  redeemedAt: Date | null;
  verifiedAt: Date | null;
  campaignName: string | null;
}

/**
 * The coupons a contact holds, newest first, found by the token of their "my coupons" page, in
 * one query. Coupons still on their way or withdrawn after a failed delivery are not the
 * contact's. Null when no contact has this token.
 */
export async function listContactCoupons(ctx: AppContext, meToken: string): Promise<ContactCoupons | null> {
  const r = await query(ctx.db, sql`
    SELECT ct.id AS "contactId", ct.display_name AS "displayName", ct.language,
      c.token, c.status, c.expires_at AS "expiresAt", c.issued_at AS "issuedAt",
      c.redeemed_at AS "redeemedAt", c.verified_at AS "verifiedAt",
      cm.name AS "campaignName", cm.reward_type AS "rewardType", cm.reward_value AS "rewardValue",
      cm.reward_currency AS "rewardCurrency", cm.reward_text AS "rewardText", cm.min_spend AS "minSpend",
      cm.time_zone AS "timeZone", cm.locale
    FROM contacts ct
    LEFT JOIN LATERAL (
      SELECT * FROM coupons WHERE contact_id = ct.id AND ${isShownToCustomerSql()}
      ORDER BY issued_at DESC, id DESC LIMIT ${MAX_COUPONS}
    ) c ON true
    LEFT JOIN campaigns cm ON cm.id = c.campaign_id
    WHERE ct.me_token = ${meToken}
    ORDER BY c.issued_at DESC NULLS LAST, c.id DESC`);
  const rows = r.rows as unknown as Row[];
  if (rows.length === 0) return null;
  const now = ctx.clock();
  return {
    contactId: rows[0]!.contactId,
    displayName: rows[0]!.displayName,
    language: rows[0]!.language,
    coupons: rows.filter((row) => row.token !== null).map((row) => ({
      token: row.token!,
      campaignName: row.campaignName ?? '',
      // numeric columns arrive as strings from raw SQL
      reward: {
        rewardType: row.rewardType,
        rewardValue: row.rewardValue === null ? null : Number(row.rewardValue),
        rewardCurrency: row.rewardCurrency,
        rewardText: row.rewardText,
        minSpend: row.minSpend === null ? null : Number(row.minSpend),
      },
      timeZone: row.timeZone ?? ctx.config.TZ_DEFAULT,
      campaignLocale: row.locale,
      status: effectiveStatus({ status: row.status!, expiresAt: row.expiresAt }, now),
      expiresAt: row.expiresAt,
      issuedAt: row.issuedAt!,
      redeemedAt: row.redeemedAt,
      verifiedAt: row.verifiedAt,
    })),
  };
}
