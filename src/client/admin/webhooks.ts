import { api, seg } from '../shared/api.ts';
import type { DeliveriesJson, DeliveryJson, NewWebhookJson, WebhookJson, WebhooksJson } from '../shared/api-types.ts';
import { byId, el, input, say, select, show } from '../shared/dom.ts';
import { fmtDate } from '../shared/format.ts';

/**
 * Webhooks out: the endpoints the shop's systems gave us, a form to add one (its secret is in the
 * answer once, so it is shown once), and an endpoint's recent deliveries with their attempts, each
 * one resendable.
 */
let selected: WebhookJson | null = null;

export function setupWebhooks(): void {
  byId('webhooks-refresh').addEventListener('click', () => void loadWebhooks());
  byId('webhook-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void addWebhook();
  });
  byId('deliveries-refresh').addEventListener('click', () => void loadDeliveries());
  select('d-status').addEventListener('change', () => void loadDeliveries());
}

export async function loadWebhooks(): Promise<void> {
  byId('webhooks-error').textContent = '';
  const r = await api<WebhooksJson>('/api/v1/webhooks');
  if (!r.ok) {
    byId('webhooks-error').textContent = `The endpoints could not be shown: ${r.error.message}`;
    return;
  }
  const tbody = byId<HTMLTableElement>('webhooks').tBodies[0]!;
  tbody.textContent = '';
  for (const w of r.body.webhooks) tbody.append(webhookRow(w));
  show(byId('no-webhooks'), r.body.webhooks.length === 0);
  if (selected && !r.body.webhooks.some((w) => w.id === selected!.id)) {
    selected = null;
    show(byId('deliveries-card'), false);
  }
}

function webhookRow(w: WebhookJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.webhook = w.id;
  const url = el('td');
  url.append(el('code', w.url));
  const events = el('td');
  for (const e of w.events) events.append(el('span', e, 'badge'), document.createTextNode(' '));
  const actions = el('td');
  const box = el('div', null, 'actions');
  const deliveries = el('button', 'Deliveries', 'btn btn-inline btn-secondary');
  deliveries.type = 'button';
  deliveries.dataset.action = 'deliveries';
  deliveries.addEventListener('click', () => {
    selected = w;
    void loadDeliveries();
  });
  const remove = el('button', 'Remove', 'btn btn-inline btn-secondary');
  remove.type = 'button';
  remove.dataset.action = 'remove';
  remove.addEventListener('click', () => void removeWebhook(w, remove));
  box.append(deliveries, remove);
  actions.append(box);
  tr.append(url, events, el('td', fmtDate(w.createdAt)), actions);
  return tr;
}

function clearFieldErrors(): void {
  for (const p of document.querySelectorAll<HTMLElement>('#webhook-form [data-error-for]')) p.textContent = '';
  input('w-url').removeAttribute('aria-invalid');
}

async function addWebhook(): Promise<void> {
  clearFieldErrors();
  show(byId('webhook-secret'), false);
  byId('webhook-secret-value').textContent = '';
  const url = input('w-url').value.trim();
  const events = [...document.querySelectorAll<HTMLInputElement>('input[name=w-event]:checked')].map((c) => c.value);
  const problems: Array<[string, string]> = [];
  if (!url) problems.push(['url', 'Enter the address your system takes the events at.']);
  if (!events.length) problems.push(['events', 'Tick at least one event to send.']);
  if (problems.length) {
    for (const [field, text] of problems) fieldError(field, text);
    say('webhook-result', false, 'The endpoint was not added.');
    return;
  }
  const button = byId<HTMLButtonElement>('webhook-add');
  button.disabled = true;
  const r = await api<NewWebhookJson>('/api/v1/webhooks', { json: { url, events } });
  button.disabled = false;
  if (!r.ok) {
    for (const f of r.error.fields) fieldError(f.field.split('.')[0]!, plainField(f.field, f.message));
    say('webhook-result', false, r.error.fields.length ? 'The endpoint was not added.' : `The endpoint was not added: ${r.error.message}`);
    return;
  }
  say('webhook-result', true, 'Endpoint added.');
  byId('webhook-secret-value').textContent = r.body.secret;
  show(byId('webhook-secret'), true);
  input('w-url').value = '';
  for (const c of document.querySelectorAll<HTMLInputElement>('input[name=w-event]')) c.checked = false;
  await loadWebhooks();
}

function plainField(field: string, message: string): string {
  if (field === 'url') return message.includes('http') ? 'Enter a full address starting with https:// (or http://).' : `The address ${message}.`;
  if (field.startsWith('events')) return `The events: ${message}.`;
  return `${field}: ${message}`;
}

function fieldError(field: string, text: string): void {
  const p = document.querySelector<HTMLElement>(`#webhook-form [data-error-for="${field}"]`);
  if (p) p.textContent = text;
  if (field === 'url') input('w-url').setAttribute('aria-invalid', 'true');
}

async function removeWebhook(w: WebhookJson, button: HTMLButtonElement): Promise<void> {
  if (!confirm(`Stop sending events to ${w.url}? Deliveries still waiting for it are dropped.`)) return;
  byId('webhooks-error').textContent = '';
  button.disabled = true;
  const r = await api<unknown>(`/api/v1/webhooks/${seg(w.id)}`, { method: 'DELETE' });
  button.disabled = false;
  if (!r.ok) {
    byId('webhooks-error').textContent = `The endpoint was not removed: ${r.error.message}`;
    return;
  }
  await loadWebhooks();
}

const statusWords: Record<string, string> = { pending: 'waiting to be sent again', sent: 'accepted', failed: 'given up' };

export async function loadDeliveries(): Promise<void> {
  const w = selected;
  if (!w) return;
  show(byId('deliveries-card'), true);
  byId('deliveries-title').textContent = `Deliveries to ${w.url}`;
  byId('deliveries-error').textContent = '';
  const q = new URLSearchParams({ limit: '50' });
  if (select('d-status').value) q.set('status', select('d-status').value);
  const r = await api<DeliveriesJson>(`/api/v1/webhooks/${seg(w.id)}/deliveries?${q.toString()}`);
  if (selected?.id !== w.id) return;
  const tbody = byId<HTMLTableElement>('deliveries').tBodies[0]!;
  if (!r.ok) {
    byId('deliveries-error').textContent = `The deliveries could not be shown: ${r.error.message}`;
    return;
  }
  tbody.textContent = '';
  for (const d of r.body.deliveries) tbody.append(deliveryRow(w, d));
  show(byId('no-deliveries'), r.body.deliveries.length === 0);
}

function deliveryRow(w: WebhookJson, d: DeliveryJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.delivery = d.id;
  const event = el('td');
  event.append(el('code', d.type), el('div', d.eventId, 'muted'));
  const status = el('td');
  status.dataset.field = 'status';
  status.append(el('span', statusWords[d.status] ?? d.status, d.status === 'sent' ? 'badge badge-yes' : d.status === 'failed' ? 'badge badge-no' : 'badge'));
  if (d.status === 'pending' && d.nextAttemptAt) status.append(el('div', `next try ${fmtDate(d.nextAttemptAt)}`, 'muted'));
  if (d.deliveredAt) status.append(el('div', `accepted ${fmtDate(d.deliveredAt)}`, 'muted'));
  const attempts = el('td');
  attempts.dataset.field = 'attempts';
  attempts.append(el('span', d.attempts.length === 1 ? '1 attempt' : `${d.attempts.length} attempts`));
  if (d.attempts.length) {
    const ul = el('ul', null, 'attempts');
    for (const a of d.attempts.slice(-5)) {
      const answer = a.status !== null ? `answered ${a.status}` : 'no answer';
      ul.append(el('li', `${fmtDate(a.at)}: ${answer}${a.error ? ` — ${a.error}` : ''} (${a.durationMs} ms)`));
    }
    attempts.append(ul);
  }
  const actions = el('td');
  const resend = el('button', d.status === 'pending' ? 'Send now' : 'Resend', 'btn btn-inline btn-secondary');
  resend.type = 'button';
  resend.dataset.action = 'resend';
  resend.addEventListener('click', () => void resendDelivery(w, d, resend));
  actions.append(resend);
  tr.append(event, status, el('td', fmtDate(d.createdAt)), attempts, actions);
  return tr;
}

async function resendDelivery(w: WebhookJson, d: DeliveryJson, button: HTMLButtonElement): Promise<void> {
  byId('deliveries-error').textContent = '';
  byId('deliveries-result').textContent = '';
  button.disabled = true;
  const r = await api<{ id: string; status: string }>(`/api/v1/webhooks/${seg(w.id)}/deliveries/${seg(d.id)}/resend`, { method: 'POST' });
  button.disabled = false;
  if (!r.ok) {
    byId('deliveries-error').textContent = `The delivery was not sent again: ${r.error.message}`;
    return;
  }
  byId('deliveries-result').textContent = `The ${d.type} event will be sent again within moments (same event id, so your system can tell it is a repeat).`;
  await loadDeliveries();
}
