import { api } from '../shared/api.ts';
import type { CampaignJson, FixedSerialJson, ImportJson, SyncImportJson } from '../shared/api-types.ts';
import { byId, el, input, say, show } from '../shared/dom.ts';
import { num } from '../shared/format.ts';
import { actions, admin, campaignPath } from './state.ts';

/** The CSV pack limit of `POST /api/v1/campaigns/:id/serials` (the server refuses larger ones too). */
const MAX_CSV_BYTES = 10 * 1024 * 1024;

/** Serial packs (CSV) and a fixed serial for the campaign on screen (its image is in the campaign form). */
export function setupUploads(): void {
  byId('csv-form').addEventListener('submit', (e) => { e.preventDefault(); void busy(e, uploadCsv); });
  byId('fixed-form').addEventListener('submit', (e) => { e.preventDefault(); void busy(e, addFixed); });
  input('csv-file').addEventListener('change', () => {
    const file = input('csv-file').files?.[0];
    if (file && file.size > MAX_CSV_BYTES) say('csv-result', false, tooBig(file));
    else byId('csv-result').textContent = '';
  });
}

function tooBig(file: File): string {
  return `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; a serial pack must be under 10 MB. Split it into smaller files and upload each.`;
}

/**
 * A campaign hands out either one-time serials from CSV packs or one fixed serial, never both:
 * only the form that fits its pool is offered, with the reason the other is not.
 */
export function showPoolForms(c: CampaignJson): void {
  const kind = c.stock?.kind ?? 'none';
  show(byId('csv-form'), kind !== 'fixed');
  show(byId('fixed-form'), kind !== 'serials');
  byId('pool-note').textContent = kind === 'serials'
    ? 'This campaign hands out one-time serials from CSV packs, so a fixed serial cannot be added to it. Upload more packs here.'
    : kind === 'fixed'
      ? 'This campaign hands out one fixed serial, so CSV packs of one-time serials cannot be added to it. Add more of the fixed serial here.'
      : 'Load one-time serials from a CSV pack, or one fixed serial that every customer gets: a campaign has one or the other.';
}

export function resetUploads(): void {
  for (const id of ['csv-result', 'fixed-result']) {
    byId(id).textContent = '';
    byId(id).className = '';
  }
  byId('csv-rejected').textContent = '';
}

/** Runs a form's action with its button disabled until the action is over, whatever happens. */
async function busy(e: Event, action: (campaignId: string) => Promise<void>): Promise<void> {
  const id = admin.current?.id;
  const button = (e.target as HTMLFormElement).querySelector('button');
  if (!id || !button) return;
  button.disabled = true;
  try {
    await action(id);
  } finally {
    button.disabled = false;
  }
}

type Rejections = Pick<ImportJson, 'loaded' | 'rejected' | 'rejectedCount'>;

function importSummary(b: Rejections): string {
  const n = b.rejectedCount;
  const rows = b.rejected.slice(0, 3).map((x) => `row ${x.row}: ${x.reason}`);
  let text = `${num(b.loaded)} loaded, ${num(n)} rejected`;
  if (rows.length) text += ` (${rows.join('; ')}${n > rows.length ? '; …' : ''})`;
  const list = byId('csv-rejected');
  list.textContent = '';
  if (b.rejected.length > 3) {
    for (const x of b.rejected) list.append(el('li', `row ${x.row}: ${x.reason}`));
    if (n > b.rejected.length) list.append(el('li', `… and ${num(n - b.rejected.length)} more`));
  }
  return text;
}

/** Reading the file, then writing its serials into the pool: both move while a big pack loads. */
function progressText(b: Pick<ImportJson, 'read' | 'loaded'>): string {
  return b.loaded > 0 ? `Loading… ${num(b.read)} rows read, ${num(b.loaded)} written` : `Loading… ${num(b.read)} rows read`;
}

/** A large pack is loaded in the background: follow it until it is done. */
async function followImport(path: string, campaignId: string): Promise<void> {
  for (;;) {
    const r = await api<ImportJson>(path);
    if (admin.current?.id !== campaignId) return;
    if (!r.ok) {
      say('csv-result', false, r.error.message);
      return;
    }
    const b = r.body;
    if (b.status === 'failed') {
      say('csv-result', false, `The import failed: ${b.error ?? 'unknown reason'}. Nothing was loaded.`);
      return;
    }
    if (b.status !== 'running') {
      say('csv-result', true, importSummary(b));
      await actions.refreshCurrent();
      return;
    }
    say('csv-result', true, progressText(b));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function uploadCsv(campaignId: string): Promise<void> {
  const file = input('csv-file').files?.[0];
  if (!file) {
    say('csv-result', false, 'Choose a CSV file first.');
    return;
  }
  if (file.size > MAX_CSV_BYTES) {
    say('csv-result', false, tooBig(file));
    return;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  say('csv-result', true, 'Uploading…');
  byId('csv-rejected').textContent = '';
  const r = await api<SyncImportJson | ImportJson>(`${campaignPath(campaignId)}/serials`, { method: 'POST', form });
  if (!r.ok) {
    say('csv-result', false, r.error.message);
    return;
  }
  if (r.status === 202) {
    const view = r.body as ImportJson;
    say('csv-result', true, progressText(view));
    await followImport(r.headers.get('Location') ?? `/api/v1/imports/${encodeURIComponent(view.id)}`, campaignId);
    return;
  }
  say('csv-result', true, importSummary(r.body));
  input('csv-file').value = '';
  await actions.refreshCurrent();
}

async function addFixed(campaignId: string): Promise<void> {
  const quantity = input('fixed-quantity').value;
  const r = await api<FixedSerialJson>(`${campaignPath(campaignId)}/serials`, {
    method: 'POST',
    json: { fixed: { code: input('fixed-code').value, quantity: quantity === '' ? null : Number(quantity) } },
  });
  if (!r.ok) {
    say('fixed-result', false, r.error.message);
    return;
  }
  say('fixed-result', true, `${num(r.body.loaded)} added; stock left ${num(r.body.stock.left)}`);
  await actions.refreshCurrent();
}
