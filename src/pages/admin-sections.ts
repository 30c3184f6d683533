import { auditActions } from '../people/audit.ts';
import { roles } from '../people/roles.ts';
import { webhookEventTypes } from '../webhooks/events.ts';
import { html } from './html.ts';

/**
 * The admin console's views for flows, webhooks out, people, the audit log and the platform
 * banner: their markup and style, kept apart from the campaign views in admin-page.ts.
 */
export const insightsCss = `
.flow .trigger{margin:2px 0;font-weight:600}
ol.steps{list-style:none;margin:10px 0 0;padding:0}
ol.steps li{margin:0 0 8px calc(var(--depth,0) * 22px)}
ol.steps li.branch{font-weight:600;color:#444;margin-bottom:4px}
.step-words{display:flex;flex-wrap:wrap;gap:4px 8px;align-items:baseline}
.step-no{font-weight:600;color:#666;font-variant-numeric:tabular-nums}
.step-text{flex:1 1 260px;overflow-wrap:anywhere}
.step-bar{height:10px;border-radius:5px;background:#eceef2;margin:4px 0 2px;max-width:520px}
.step-bar .fill{height:10px;border-radius:5px;background:#06c755;min-width:2px}
.step-counts{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:.85rem}
.table-wrap{position:relative}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.history{border:1px solid #e3e5ea;border-radius:10px;padding:10px 14px;margin:12px 0;background:#fafbfc}
ol.events{list-style:none;margin:0;padding:0}
ol.events li{display:grid;grid-template-columns:minmax(140px,max-content) minmax(0,1fr);gap:2px 14px;padding:6px 0;border-top:1px solid #e3e5ea}
ol.events li:first-child{border-top:0}
ol.events .what{font-weight:600}
#funnel-split{margin-top:12px}
#funnel-revenue{margin-top:8px}
@media (max-width:600px){ol.events li{grid-template-columns:minmax(0,1fr)}}
.checks{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:4px 12px;margin:6px 0}
.checks label{display:flex;gap:6px;align-items:baseline;font-weight:400}
.secret{background:#fff8e1;border:1px solid #f0d58a;border-radius:10px;padding:10px 14px;margin:10px 0}
.secret code{display:block;font-size:1rem;padding:6px 0;user-select:all}
ul.attempts{margin:4px 0 0;padding-left:1.1em;font-size:.85rem}
.actions{display:flex;flex-wrap:wrap;gap:6px}
.banner{background:#fff4e5;color:#663c00;border:1px solid #f5c27a;border-radius:10px;padding:10px 14px;margin:0 0 12px}
.banner ul{margin:4px 0 0;padding-left:1.2em}
`;

export const flowsSection = html`<section id="view-flows" class="hidden"><div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Flows</h2>
<button class="btn btn-inline btn-secondary" id="flows-reload" type="button" title="After changing a flow file or creating the campaign it names">Read files again</button>
<button class="btn btn-inline btn-secondary" id="flows-refresh" type="button">Refresh</button></div>
<p id="flows-error" class="reason" role="alert"></p>
<p id="flows-reloaded" class="ok" role="status"></p>
<div id="flows"></div>
<div id="flows-errors" class="errors hidden"><strong>Files that could not be read</strong><ul></ul></div>
</div></div></section>`;

/** Below the records: one coupon's history (issued, delivered, opened, redeemed, verified, voided). */
export const historyPanel = html`<div id="history" class="history hidden" aria-live="polite">
<div class="row-actions"><h3 class="grow" id="history-title">History</h3><button class="btn btn-inline btn-secondary" id="history-close" type="button">Close</button></div>
<p id="history-error" class="reason" role="alert"></p>
<ol id="history-events" class="events"></ol>
</div>`;

const eventWords: Record<(typeof webhookEventTypes)[number], string> = {
  'coupon.issued': 'a coupon is issued',
  'coupon.opened': 'a customer opens a coupon',
  'coupon.redeemed': 'a customer redeems a coupon',
  'coupon.verified': 'a coupon is verified at the till',
  'coupon.voided': 'a verification is voided',
  'coupon.expired': 'a coupon expires',
  'coupon.delivery_failed': 'a coupon card could not be delivered',
  'campaign.low_stock': 'a campaign runs low on serials',
  'campaign.sold_out': 'a campaign is sold out',
  'broadcast.finished': 'a broadcast has finished',
};

/** Webhooks out: the shop's endpoints, a form to add one (its secret shown once), deliveries. */
export const webhooksSection = html`<section id="view-webhooks" class="hidden"><div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Webhooks</h2><button class="btn btn-inline btn-secondary" id="webhooks-refresh" type="button">Refresh</button></div>
<p class="muted">Your own systems are told when something happens: each event is posted to the address, signed with the endpoint’s secret (see the README for checking the signature), and tried again for 24 hours until it is accepted.</p>
<p id="webhooks-error" class="reason" role="alert"></p>
<div class="table-wrap"><table id="webhooks">
<thead><tr><th>Address</th><th>Events</th><th>Added</th><th><span class="sr-only">Actions</span></th></tr></thead>
<tbody></tbody></table></div>
<p id="no-webhooks" class="muted hidden">No endpoints yet.</p>
<form id="webhook-form" class="stack" novalidate>
<h3>Add an endpoint</h3>
<label for="w-url">Address <span class="hint">(https://…, where your system takes the events)</span></label>
<input id="w-url" type="url" autocomplete="off" placeholder="https://shop.example/hooks/coupons">
<p class="field-error" data-error-for="url"></p>
<fieldset class="checks" id="w-events"><legend>Events to send</legend>
${webhookEventTypes.map((t) => html`<label><input type="checkbox" name="w-event" value="${t}"> <span><code>${t}</code> ${eventWords[t]}</span></label>`)}
</fieldset>
<p class="field-error" data-error-for="events"></p>
<div class="row-actions"><button class="btn btn-inline btn-dark" id="webhook-add" type="submit">Add endpoint</button><span id="webhook-result" role="status"></span></div>
</form>
<div id="webhook-secret" class="secret hidden" role="status"><strong>The endpoint’s secret — copy it now, it is not shown again:</strong><code id="webhook-secret-value"></code></div>
</div></div>

<div class="card hidden" id="deliveries-card"><div class="card-body">
<div class="row-actions"><h2 class="grow" id="deliveries-title">Deliveries</h2>
<label>Status <select id="d-status"><option value="">All</option><option value="pending">waiting to be sent again</option><option value="sent">accepted</option><option value="failed">given up</option></select></label>
<button class="btn btn-inline btn-secondary" id="deliveries-refresh" type="button">Refresh</button></div>
<p id="deliveries-error" class="reason" role="alert"></p>
<p id="deliveries-result" class="ok" role="status"></p>
<div class="table-wrap"><table id="deliveries">
<thead><tr><th>Event</th><th>Status</th><th>Created</th><th>Attempts</th><th><span class="sr-only">Actions</span></th></tr></thead>
<tbody></tbody></table></div>
<p id="no-deliveries" class="muted hidden">Nothing was sent to this endpoint yet.</p>
</div></div>
</section>`;

/** Tabs of these views; `data-role` tabs are shown only to that role (the page asks who is signed in). */
export const extraTabs = html`<a class="tab" href="#webhooks" data-tab="webhooks">Webhooks</a>
<a class="tab hidden" href="#people" data-tab="people" data-role="owner">People</a>
<a class="tab hidden" href="#audit" data-tab="audit" data-role="owner">Audit log</a>
<a class="tab hidden" href="/admin/status" data-role="owner">Status</a>`;

/** Says which chat platform is down and what waits for it (from `GET /api/v1/status`). */
export const platformBanner = html`<div id="platform-banner" class="banner hidden" role="alert"><strong>A chat platform is down</strong><ul></ul></div>`;

const roleWords: Record<(typeof roles)[number], string> = {
  owner: 'owner — everything, people and settings',
  marketer: 'marketer — campaigns, flows, contacts, broadcasts, records',
  agent: 'agent — the workbench: coupons into chats',
  staff: 'staff — the scanner at the till',
};
const roleOptions = roles.map((r) => html`<option value="${r}">${roleWords[r]}</option>`);

/** The owner's people: who may sign in with which role, their API tokens and sessions. */
export const peopleSection = html`<section id="view-people" class="hidden"><div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">People</h2><button class="btn btn-inline btn-secondary" id="people-refresh" type="button">Refresh</button></div>
<p id="people-error" class="reason" role="alert"></p>
<p id="people-result" class="ok" role="status"></p>
<div class="table-wrap"><table id="people">
<thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Password</th><th>Added</th><th><span class="sr-only">Actions</span></th></tr></thead>
<tbody></tbody></table></div>
<form id="person-form" class="stack" novalidate>
<h3>Add a person</h3>
<div class="fields">
<div><label for="p-name">Name</label><input id="p-name" autocomplete="off" maxlength="80"><p class="field-error" data-person-error="name"></p></div>
<div><label for="p-email">Email <span class="hint">(optional; signs in with it)</span></label><input id="p-email" type="email" autocomplete="off"><p class="field-error" data-person-error="email"></p></div>
<div><label for="p-role">Role</label><select id="p-role">${roleOptions}</select><p class="field-error" data-person-error="role"></p></div>
</div>
<div class="row-actions"><button class="btn btn-inline btn-dark" id="person-add" type="submit">Add person</button></div>
<p class="muted">They get an API token (shown once, below). For a sign-in link to set their password, run <code>npm run user:invite -- --name "…" --role …</code> on the server.</p>
</form>
<div id="person-token" class="secret hidden" role="status"><strong id="person-token-title"></strong><code id="person-token-value"></code></div>
</div></div>

<div class="card hidden" id="person-card"><div class="card-body">
<div class="row-actions"><h2 class="grow" id="person-title"></h2></div>
<p id="person-error" class="reason" role="alert"></p>
<p id="person-result" class="ok" role="status"></p>
<h3>API tokens</h3>
<div class="table-wrap"><table id="tokens"><thead><tr><th>Name</th><th>Created</th><th>Last used</th><th><span class="sr-only">Actions</span></th></tr></thead><tbody></tbody></table></div>
<form id="token-form" class="row-actions"><label for="t-name">New token named</label><input id="t-name" autocomplete="off" maxlength="80" placeholder="nightly export"><button class="btn btn-inline btn-secondary" type="submit">Create token</button></form>
<h3>Signed in on</h3>
<div class="table-wrap"><table id="sessions"><thead><tr><th>Since</th><th>Last seen</th><th>From</th><th>Browser</th><th><span class="sr-only">Actions</span></th></tr></thead><tbody></tbody></table></div>
<div class="row-actions"><button class="btn btn-inline btn-secondary" id="sessions-revoke" type="button">Sign out everywhere</button></div>
</div></div>
</section>`;

/** The owner's audit log: who did what and when, filtered, paged, downloaded as CSV. */
export const auditSection = html`<section id="view-audit" class="hidden"><div class="card"><div class="card-body">
<h2>Audit log</h2>
<form id="audit-filter" class="row-actions">
<label>Who <input id="a-actor" autocomplete="off" placeholder="name or id"></label>
<label>What <select id="a-action"><option value="">Everything</option>${auditActions.map((a) => html`<option value="${a}">${a}</option>`)}</select></label>
<button class="btn btn-inline btn-secondary" type="submit">Apply</button>
<button class="btn btn-inline btn-dark" id="audit-download" type="button">Download CSV</button>
</form>
<p id="audit-error" class="reason" role="alert"></p>
<div class="table-wrap"><table id="audit"><thead><tr><th>When</th><th>Who</th><th>What</th><th>On</th><th>Details</th></tr></thead><tbody></tbody></table></div>
<p id="no-audit" class="muted hidden">Nothing recorded.</p>
<div class="row-actions"><button class="btn btn-inline btn-secondary hidden" id="audit-more" type="button">Load more</button></div>
</div></div></section>`;
