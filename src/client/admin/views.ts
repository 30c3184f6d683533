import { api } from '../shared/api.ts';
import type { StatusJson } from '../shared/api-types.ts';
import { byId, el, show } from '../shared/dom.ts';
import { fmtDate, num } from '../shared/format.ts';
import { loadAudit, setupAudit } from './audit.ts';
import { loadPeople, setupPeople } from './people.ts';
import { loadWebhooks, setupWebhooks } from './webhooks.ts';

/**
 * The console's views beyond campaigns and flows (webhooks out; the owner's people and audit log),
 * and the banner that says when a chat platform is down. main.ts routes `#<name>` here.
 */
export const extraViews: Record<string, { section: string; load: () => Promise<void> }> = {
  webhooks: { section: 'view-webhooks', load: loadWebhooks },
  people: { section: 'view-people', load: loadPeople },
  audit: { section: 'view-audit', load: () => loadAudit() },
};

export function setupExtraViews(): void {
  setupWebhooks();
  setupPeople();
  setupAudit();
  void showRoleTabs();
  // The banner follows the platforms while the console stays open (each view change reads it too).
  setInterval(() => void refreshBanner(), 60_000);
}

/** Tabs only one role may open (the owner's status page, people and audit log) appear for that role. */
async function showRoleTabs(): Promise<void> {
  const r = await api<{ role: string }>('/api/v1/me');
  if (!r.ok) {
    byId('error').textContent = `Who is signed in could not be read: ${r.error.message}`;
    return;
  }
  for (const tab of document.querySelectorAll<HTMLElement>('[data-role]')) show(tab, tab.dataset.role === r.body.role);
}

type Platform = StatusJson['platforms'][number];

/** "LINE is not answering since …: 12 messages wait and go out as soon as it answers (next try …)." */
export function platformText(p: Platform): string {
  const since = p.since ? ` since ${fmtDate(p.since)}` : '';
  const waiting = p.waiting === 0
    ? 'Nothing is waiting for it yet'
    : `${num(p.waiting)} message${p.waiting === 1 ? ' is' : 's are'} waiting and will be sent as soon as it answers again`;
  const next = p.nextTry ? ` (next try ${fmtDate(p.nextTry)})` : '';
  return `${p.label} is not answering${since}. ${waiting}${next}; nothing is lost.`;
}

let reading = false;

export async function refreshBanner(): Promise<void> {
  if (reading) return;
  reading = true;
  try {
    const r = await api<StatusJson>('/api/v1/status');
    const banner = byId('platform-banner');
    const list = banner.querySelector('ul')!;
    list.textContent = '';
    if (!r.ok) {
      // A marketer may not read the status (403) on installs that restrict it: nothing to say then.
      if (r.status === 403) return show(banner, false);
      list.append(el('li', `The platforms’ state could not be read: ${r.error.message}`));
      banner.dataset.state = 'unknown';
      return show(banner, true);
    }
    const down = r.body.platforms.filter((p) => p.down);
    for (const p of down) {
      const li = el('li', platformText(p));
      li.dataset.platform = p.channel;
      list.append(li);
    }
    banner.dataset.state = down.length ? 'down' : 'ok';
    show(banner, down.length > 0);
  } finally {
    reading = false;
  }
}
