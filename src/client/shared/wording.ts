import type { CampaignJson } from './api-types.ts';

/**
 * Words for data that both consoles show. Reward wording is the server's (`rewardText` in the
 * API's answers); statuses are shown as the API names them, coloured here in one place.
 */

/** The badge colour of a coupon status. */
export function statusBadge(status: string): string {
  if (status === 'redeemed' || status === 'verified') return 'badge badge-yes';
  if (status === 'expired' || status === 'void') return 'badge badge-no';
  return 'badge';
}

export function visibilityText(visibility: string): string {
  return visibility === 'private' ? 'Private (sent by an agent into one chat)' : 'Public';
}

export function barcodeText(barcode: string): string {
  return barcode === 'qr' ? 'QR' : barcode === 'code39' ? 'CODE_39' : 'CODE_128';
}

type Stock = NonNullable<CampaignJson['stock']>;

export function stockText(stock: Stock | undefined): string {
  if (!stock) return '';
  if (stock.kind === 'none') return 'nothing loaded';
  return `${stock.left.toLocaleString('en')} of ${stock.total.toLocaleString('en')}${stock.kind === 'fixed' ? ' (fixed)' : ''}`;
}

export function expiryText(e: CampaignJson['expiry']): string {
  const n = 'days' in e && e.days !== undefined ? `${e.days} day${e.days === 1 ? '' : 's'}` : `${e.hours} hour${e.hours === 1 ? '' : 's'}`;
  return `${n}${e.mode === 'fromSend' ? ' from sending' : ' from redemption'}`;
}
