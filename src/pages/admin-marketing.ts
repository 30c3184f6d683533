import { channelNames } from '../../adapters/index.ts';
import { audienceChannels } from '../audiences/audience.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * The admin console's contacts and broadcasts views (markup only; src/client/admin/contacts.ts,
 * audience-builder.ts and broadcasts.ts fill them from the API), kept apart from the campaign views
 * of admin-page.ts.
 */

export const marketingCss = `
.progress{height:14px;border-radius:7px;background:#e3e5ea;overflow:hidden;margin:6px 0}
.progress .fill{height:100%;background:#06c755;width:0;transition:width .3s}
.progress.indeterminate .fill{width:30%;animation:slide 1.2s linear infinite}
@keyframes slide{from{margin-left:-30%}to{margin-left:100%}}
fieldset{border:1px solid #e3e5ea;border-radius:10px;padding:8px 14px 12px;margin:12px 0;min-width:0}
legend{font-weight:600;padding:0 6px}
.estimate{font-weight:600;margin:10px 0 0}
.estimate [data-channel]{font-weight:400;color:#444;margin-left:8px}
.variant{display:grid;grid-template-columns:auto minmax(0,2fr) 90px minmax(0,3fr) auto;gap:8px;align-items:start;margin:6px 0}
.variant .key{font-weight:700;padding-top:8px}
.quota-line{background:#eef5ff;border-radius:10px;padding:8px 12px;margin:12px 0}
.quota-line.reason{background:#fde8e8}
.tags .badge{margin:0 4px 2px 0}
.verdict li{margin:4px 0}
@media (max-width:860px){.variant{grid-template-columns:minmax(0,1fr)}}
`;

export const marketingTabs: SafeHtml = html`<a class="tab" href="#contacts" data-tab="contacts">Contacts</a>
<a class="tab" href="#broadcasts" data-tab="broadcasts">Broadcasts</a>`;

/** Every channel (contacts come from all of them), and those a broadcast reaches, from the plug-ins. */
const channelOptions = html`<option value="">All channels</option>${channelNames.map((c) => html`<option value="${c}">${c}</option>`)}`;
const audienceChannelBoxes = audienceChannels.map((c) => html`<label class="check"><input type="checkbox" data-audience-channel="${c}" checked> ${c}</label>`);

/** The contacts view; a sync button for each configured channel whose followers can be listed. */
export const contactsView = (followerChannels: readonly string[]): SafeHtml => html`<section id="view-contacts" class="hidden">
<div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Contacts</h2></div>
<form id="contacts-filter" class="row-actions">
<input id="c-q" type="search" placeholder="Name or user id" aria-label="Search by name or user id" maxlength="100">
<select id="c-channel" aria-label="Channel">${channelOptions}</select>
<input id="c-tag" placeholder="Tag" aria-label="Tag" maxlength="50">
<button class="btn btn-inline btn-secondary" type="submit">Search</button>
</form>
<p id="contacts-error" class="reason" role="alert"></p>
<div class="table-wrap"><table id="contacts">
<thead><tr><th>Name</th><th>Channel</th><th>User id</th><th>Language</th><th>Tags</th><th>Followed</th><th>Last message</th><th>Reachable</th></tr></thead>
<tbody></tbody></table></div>
<p id="no-contacts" class="muted hidden">No contacts match.</p>
<div class="row-actions"><button class="btn btn-inline btn-secondary hidden" id="contacts-more" type="button">Load more</button><span id="contacts-count" class="muted"></span></div>
</div></div>

<div class="card"><div class="card-body">
<h2>Import and sync</h2>
<div class="grid2">
<form id="contacts-import-form">
<label for="contacts-file"><strong>Import a CSV</strong> <span class="muted">header <code>channel,userId,tags,language</code>; tags separated by |; under 50 MB</span></label>
<input id="contacts-file" name="file" type="file" accept=".csv,text/csv,text/plain" required>
<div class="row-actions"><button class="btn btn-inline btn-dark" type="submit">Import contacts</button></div>
<p id="contacts-import-result" role="status"></p>
<ul id="contacts-import-rejected" class="reason"></ul>
</form>
<div>
<strong>Friends who followed before</strong>
${followerChannels.length
    ? html`<p class="muted">Adds the friends who followed the account before this service was installed. The platform allows this only for some accounts.</p>
<div class="row-actions">${followerChannels.map((c) => html`<button class="btn btn-inline btn-dark" data-sync-channel="${c}" type="button">Sync ${c} friends</button>`)}</div>`
    : html`<p class="muted">No channel configured here lets us list its followers.</p>`}
<div id="sync-progress" class="progress hidden" role="progressbar" aria-label="Sync progress"><div class="fill"></div></div>
<p id="sync-result" role="status"></p>
</div>
</div>
</div></div>
</section>`;

export const broadcastsView: SafeHtml = html`<section id="view-broadcasts" class="hidden">
<div class="card" id="broadcast-list-card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Broadcasts</h2><a class="btn btn-inline btn-dark" href="#broadcasts/new" id="broadcast-new">New broadcast</a></div>
<p id="broadcasts-error" class="reason" role="alert"></p>
<div class="table-wrap"><table id="broadcasts">
<thead><tr><th>Name</th><th>Status</th><th>Send at</th><th class="num">Recipients</th><th class="num">Sent</th><th class="num">Skipped</th><th class="num">Failed</th></tr></thead>
<tbody></tbody></table></div>
<p id="no-broadcasts" class="muted hidden">No broadcasts yet.</p>
</div></div>

<div class="card hidden" id="broadcast-compose"><div class="card-body">
<h2>New broadcast</h2>
<form id="bc-form" class="stack" novalidate>
<label for="bc-name">Name <span class="hint">(for you; customers do not see it)</span></label><input id="bc-name" maxlength="100" autocomplete="off">
<p class="field-error" data-bc-error-for="name"></p>

<fieldset id="audience-builder"><legend>Audience</legend>
<div class="fields">
<div><label>Channels</label><div class="inline">
${audienceChannelBoxes}
</div><p class="field-error" data-bc-error-for="audience.channels"></p></div>
<div><label for="ab-tags-all">Has all of these tags <span class="hint">(comma separated)</span></label><input id="ab-tags-all" autocomplete="off"><p class="field-error" data-bc-error-for="audience.tagsAll"></p></div>
<div><label for="ab-tags-any">Has any of these tags</label><input id="ab-tags-any" autocomplete="off"><p class="field-error" data-bc-error-for="audience.tagsAny"></p></div>
<div><label for="ab-tags-none">Has none of these tags</label><input id="ab-tags-none" autocomplete="off"><p class="field-error" data-bc-error-for="audience.tagsNone"></p></div>
<div><label for="ab-languages">Languages <span class="hint">(e.g. ja, zh-TW)</span></label><input id="ab-languages" autocomplete="off"><p class="field-error" data-bc-error-for="audience.languages"></p></div>
<div><label for="ab-followed-after">Followed after</label><input id="ab-followed-after" type="date"><p class="field-error" data-bc-error-for="audience.followedAfter"></p></div>
<div><label for="ab-active">Wrote to us within <span class="hint">(days)</span></label><input id="ab-active" type="number" min="1" step="1"><p class="field-error" data-bc-error-for="audience.activeWithinDays"></p></div>
<div><label for="ab-campaign">Coupons of a campaign</label><select id="ab-campaign"><option value="">Any</option></select><p class="field-error" data-bc-error-for="audience.campaign.id"></p></div>
<div><label for="ab-campaign-has">Who hold</label><select id="ab-campaign-has"><option value="none">none of its coupons</option><option value="unredeemed">an unredeemed one</option><option value="redeemed">a redeemed one</option></select><p class="field-error" data-bc-error-for="audience.campaign.has"></p></div>
</div>
<p class="estimate" id="ab-estimate" role="status" aria-live="polite"></p>
<p class="muted">Friends who blocked or unfollowed the account, and inbox conversations, are never included.</p>
</fieldset>

<fieldset><legend>What they get</legend>
<label class="check"><input type="radio" name="bc-mode" id="bc-mode-single" value="single" checked> One campaign</label>
<label class="check"><input type="radio" name="bc-mode" id="bc-mode-variants" value="variants"> Variants (up to four, compared on redemption)</label>
<div id="bc-single">
<label for="bc-campaign">Campaign</label><select id="bc-campaign"></select>
<p class="field-error" data-bc-error-for="campaignId"></p>
<label for="bc-text">Text sent before the card <span class="hint">(optional)</span></label><textarea id="bc-text" rows="2" maxlength="2000"></textarea>
<p class="field-error" data-bc-error-for="text"></p>
</div>
<div id="bc-variants-box" class="hidden">
<div id="bc-variants"></div>
<div class="row-actions"><button class="btn btn-inline btn-secondary" id="bc-add-variant" type="button">Add a variant</button></div>
<p class="field-error" data-bc-error-for="variants"></p>
</div>
<label for="bc-holdout">Holdout <span class="hint">(% of the audience who get nothing, the baseline; 0–50)</span></label><input id="bc-holdout" type="number" min="0" max="50" step="1" value="0">
<p class="field-error" data-bc-error-for="holdoutPercent"></p>
</fieldset>

<fieldset><legend>When and how fast</legend>
<label class="check"><input type="radio" name="bc-when" id="bc-when-now" value="now" checked> Now</label>
<label class="check"><input type="radio" name="bc-when" id="bc-when-later" value="later"> At a set time</label>
<div id="bc-later" class="hidden">
<label for="bc-send-at">Send at <span class="hint" id="bc-zone"></span></label><input id="bc-send-at" type="datetime-local">
</div>
<p class="field-error" data-bc-error-for="sendAt"></p>
<label for="bc-rate">Cards a second <span class="hint">(empty: 1,000, safe for LINE's push limit)</span></label><input id="bc-rate" type="number" min="1" max="10000" step="1">
<p class="field-error" data-bc-error-for="ratePerSecond"></p>
<label for="bc-quota">When LINE's monthly quota is short</label><select id="bc-quota"><option value="all-or-nothing">Send nothing (all or nothing)</option><option value="up-to-remaining">Send to as many as fit</option></select>
<p class="field-error" data-bc-error-for="quota"></p>
</fieldset>

<p id="bc-quota-line" class="quota-line" role="status" aria-live="polite"></p>
<div id="bc-errors" class="errors hidden" role="alert"><strong>The broadcast was not created:</strong><ul></ul></div>
<div class="row-actions"><button class="btn btn-inline btn-dark" id="bc-send" type="submit">Send broadcast</button><a class="btn btn-inline btn-secondary" href="#broadcasts">Cancel</a></div>
</form>
</div></div>

<div class="card hidden" id="broadcast-detail"><div class="card-body">
<div class="row-actions"><h2 id="bd-name" class="grow"></h2><span id="bd-status" class="badge"></span></div>
<p id="bd-reason" class="reason"></p>
<p id="bd-when" class="muted"></p>
<div id="bd-progress" class="progress" role="progressbar" aria-label="Broadcast progress" aria-valuemin="0" aria-valuemax="100"><div class="fill"></div></div>
<p id="bd-progress-text"></p>
<p id="bd-pace" class="muted"></p>
<div class="row-actions">
<button class="btn btn-inline btn-secondary" id="bd-pause" type="button">Pause</button>
<button class="btn btn-inline btn-dark" id="bd-resume" type="button">Resume</button>
<button class="btn btn-inline btn-secondary" id="bd-cancel" type="button">Cancel broadcast</button>
<span id="bd-action-result" role="status"></span>
</div>
<div class="grid2">
<div><h3>Counts</h3><dl class="settings" id="bd-counts"></dl></div>
<div><h3>Skipped, by reason</h3><dl class="settings" id="bd-skipped"></dl><p id="bd-no-skipped" class="muted">None skipped.</p></div>
</div>
<h3>Results per variant</h3>
<div class="table-wrap"><table id="bd-results">
<thead><tr><th>Variant</th><th>Campaign</th><th class="num">Recipients</th><th class="num">Sent</th><th class="num">Opened</th><th class="num">Redeemed</th><th class="num">Verified</th><th class="num">Redeemed of sent</th><th class="num">Revenue</th><th class="num">Revenue per card</th></tr></thead>
<tbody></tbody></table></div>
<ul id="bd-verdict" class="verdict"></ul>
<h3>Recipients</h3>
<form id="bd-recipients-filter" class="row-actions">
<select id="bd-r-status" aria-label="Recipients shown"><option value="">All recipients</option><option value="issued">Issued a card</option><option value="pending">Not issued yet</option><option value="skipped">Skipped</option><option value="holdout">Held out</option></select>
<select id="bd-r-reason" aria-label="Reason skipped"><option value="">Any reason</option></select>
<button class="btn btn-inline btn-secondary" type="submit">Show</button>
</form>
<p id="bd-recipients-error" class="reason" role="alert"></p>
<div class="table-wrap"><table id="bd-recipients">
<thead><tr><th>Contact</th><th>Channel</th><th>Variant</th><th>Status</th><th>Reason or delivery</th></tr></thead>
<tbody></tbody></table></div>
<p id="no-recipients" class="muted hidden">No recipients match.</p>
<div class="row-actions"><button class="btn btn-inline btn-secondary hidden" id="bd-recipients-more" type="button">Load more</button><span id="bd-recipients-count" class="muted"></span></div>
<p id="bd-error" class="reason" role="alert"></p>
</div></div>
</section>`;
