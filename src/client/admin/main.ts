import { byId, show, showUncaughtErrors } from '../shared/dom.ts';
import { signOut } from '../shared/session.ts';
import { hideCampaign, refreshCurrent, selectCampaign } from './campaign-detail.ts';
import { enterCreate, openEdit, setupCampaignForm } from './campaign-form.ts';
import { loadCampaigns, setupCampaignList } from './campaign-list.ts';
import { setupCampaignState } from './campaign-state.ts';
import { loadFlows, setupFlows } from './flows.ts';
import { loadRecords, setupRecords } from './records.ts';
import { leaveBroadcasts, openBroadcasts, setupBroadcasts } from './broadcasts.ts';
import { openContacts, setupContacts } from './contacts.ts';
import { actions, admin } from './state.ts';
import { extraViews, refreshBanner, setupExtraViews } from './views.ts';
import { setupUploads } from './uploads.ts';

/**
 * The marketers' admin console, for a signed-in session: the tabs (campaigns, new campaign,
 * flows, contacts, broadcasts) and the hash routes (#campaign/<id>, #edit/<id>, #broadcasts/new,
 * #broadcast/<id>). Each part of the page is its own module.
 */
async function route(): Promise<void> {
  const hash = location.hash.replace(/^#/, '');
  const edit = /^edit\/(.+)$/.exec(hash);
  const broadcasts = /^broadcasts?(\/|$)/.test(hash);
  const extra = extraViews[hash];
  const tab = hash === 'new' ? 'new' : hash === 'flows' ? 'flows' : hash === 'contacts' ? 'contacts' : broadcasts ? 'broadcasts' : extra ? hash : edit ? 'edit' : 'campaigns';
  const navTab = tab === 'edit' ? 'campaigns' : tab;
  for (const a of document.querySelectorAll<HTMLElement>('[data-tab]')) {
    if (a.dataset.tab === navTab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  show(byId('view-campaigns'), tab === 'campaigns');
  show(byId('view-new'), tab === 'new' || tab === 'edit');
  show(byId('view-flows'), tab === 'flows');
  show(byId('view-contacts'), tab === 'contacts');
  show(byId('view-broadcasts'), tab === 'broadcasts');
  for (const [name, view] of Object.entries(extraViews)) show(byId(view.section), tab === name);
  byId('error').textContent = '';
  void refreshBanner();
  if (tab !== 'broadcasts') leaveBroadcasts();
  if (extra) return await extra.load();
  if (tab === 'flows') return await loadFlows();
  if (tab === 'contacts') return await openContacts();
  if (tab === 'broadcasts') return await openBroadcasts(hash);
  if (edit) return await openEdit(decodeURIComponent(edit[1]!));
  if (tab === 'new') return enterCreate();
  const open = /^campaign\/(.+)$/.exec(hash);
  if (!(await loadCampaigns())) return;
  if (!open) return hideCampaign();
  const id = decodeURIComponent(open[1]!);
  const c = admin.campaigns.find((x) => x.id === id);
  if (c) selectCampaign(c);
  else byId('error').textContent = 'That campaign does not exist.';
}

showUncaughtErrors('error');
actions.refreshCurrent = refreshCurrent;

byId('logout').addEventListener('click', () => {
  void signOut().then((problem) => {
    if (problem) byId('error').textContent = problem;
  });
});
byId('refresh').addEventListener('click', () => {
  if (admin.current) void refreshCurrent().then(() => loadRecords(false));
  else void loadCampaigns();
});
byId('edit').addEventListener('click', () => {
  if (admin.current) location.hash = `edit/${encodeURIComponent(admin.current.id)}`;
});
setupUploads();
setupRecords();
setupCampaignForm();
setupCampaignList();
setupCampaignState();
setupFlows();
setupContacts();
setupBroadcasts();
setupExtraViews();
window.addEventListener('hashchange', () => void route());

show(byId('nav'), true);
void route();
