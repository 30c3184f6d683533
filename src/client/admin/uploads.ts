import { api } from '../shared/api.ts';
import type { FixedSerialJson, ImageJson, ImportJson, SyncImportJson } from '../shared/api-types.ts';
import { byId, el, input, say } from '../shared/dom.ts';
import { num } from '../shared/format.ts';
import { actions, admin, campaignPath } from './state.ts';

/** Serial packs (CSV), a fixed serial, and the coupon image of the campaign on screen. */
export function setupUploads(): void {
  byId('csv-form').addEventListener('submit', (e) => { e.preventDefault(); void busy(e, uploadCsv); });
  byId('fixed-form').addEventListener('submit', (e) => { e.preventDefault(); void busy(e, addFixed); });
  byId('image-form').addEventListener('submit', (e) => { e.preventDefault(); void busy(e, uploadImage); });
}

export function resetUploads(): void {
  for (const id of ['csv-result', 'fixed-result', 'image-result']) {
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
    say('csv-result', true, `Loading… ${num(b.read)} rows read`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function uploadCsv(campaignId: string): Promise<void> {
  const file = input('csv-file').files?.[0];
  if (!file) {
    say('csv-result', false, 'Choose a CSV file first.');
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
    say('csv-result', true, `Loading… ${num(view.read)} rows read`);
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

async function uploadImage(campaignId: string): Promise<void> {
  const file = input('image-file').files?.[0];
  if (!file) {
    say('image-result', false, 'Choose an image first.');
    return;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  const r = await api<ImageJson>(`${campaignPath(campaignId)}/image`, { method: 'PUT', form });
  if (!r.ok) {
    say('image-result', false, r.error.message);
    return;
  }
  const b = r.body;
  say('image-result', true, `Image saved: ${b.width}×${b.height} ${b.type}, ${num(Math.ceil(b.bytes / 1024))} KB${b.warning ? ` (${b.warning})` : ''}`);
  input('image-file').value = '';
  await actions.refreshCurrent();
}
