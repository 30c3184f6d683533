import type { CampaignJson } from '../shared/api-types.ts';

/** What the admin console's components share: the campaign list and the campaign on screen. */
export const admin = {
  campaigns: [] as CampaignJson[],
  current: null as CampaignJson | null,
  /** A line to show above the campaign once it is on screen again (after saving an edit). */
  flash: null as { id: string; text: string } | null,
};

/**
 * Steps one component asks of another, plugged in by main.ts (so components never import each
 * other): reload the list and the campaign on screen after a change.
 */
export const actions = {
  refreshCurrent: async (): Promise<void> => undefined,
};

export const campaignPath = (id: string): string => `/api/v1/campaigns/${encodeURIComponent(id)}`;
