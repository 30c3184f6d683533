import { couponStatuses } from '../coupons/rules.ts';
import { broadcastsView, contactsView, marketingCss, marketingTabs } from './admin-marketing.ts';
import { auditSection, extraTabs, flowsSection, historyPanel, insightsCss, peopleSection, platformBanner, webhooksSection } from './admin-sections.ts';
import { assetUrl } from './client-assets.ts';
import { locales, localeNames, type Locale } from '../i18n/locales.ts';
import { html, renderPage } from './html.ts';

const css = `
body{--bg:#f3f4f7}
main{max-width:none;padding:16px 24px 48px}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:0 0 16px}
header.top h1{margin:0;flex:1 1 auto}
.grow{flex:1 1 auto;margin:0}
nav{display:flex;flex-wrap:wrap;gap:6px}
.tab{padding:8px 14px;border-radius:10px;border:1px solid #ccd;background:#fff;color:#1a1a1a;font:inherit;cursor:pointer;text-decoration:none}
.tab[aria-current=page]{background:#1a1a1a;color:#fff;border-color:#1a1a1a}
.hidden{display:none !important}
.card{overflow:visible}
.card-body h2:first-child{margin-top:0}
h3{font-size:1rem;margin:12px 0 6px}
.btn-inline{display:inline-block;width:auto;padding:8px 16px;margin:0;font-size:.95rem;border-radius:10px}
.btn-dark{background:#1a1a1a;color:#fff}
.row-actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:10px 0}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
.records-wrap{max-height:min(70vh,720px);overflow:auto;border:1px solid #e3e5ea;border-radius:8px}
.records-wrap thead th{position:sticky;top:0;z-index:1;box-shadow:0 1px 0 #e3e5ea}
.records-wrap td{white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:.92rem;background:#fff;color:#1a1a1a}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #e3e5ea;vertical-align:top}
th{font-weight:600;color:#444;background:#fafbfc;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.selected td{background:#eef5ff}
.linkish{border:0;background:none;padding:0;font:inherit;font-weight:600;color:#0b63c5;cursor:pointer;text-align:left}
.linkish:focus-visible,.tab:focus-visible{outline:3px solid #0b63c5}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;background:#eef;color:#224;white-space:nowrap}
.badge-no{background:#fde8e8;color:#8a1c1c}
.badge-yes{background:#e6f6ea;color:#125b2a}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px}
dl.settings{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 14px;margin:0}
dl.settings dt{color:#666}
dl.settings dd{margin:0;overflow-wrap:anywhere}
.pre{white-space:pre-wrap;overflow-wrap:anywhere}
.rich{overflow-wrap:anywhere}
.rich p,.rich ul{margin:0 0 6px}
.rich ul{padding-left:1.3em}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px;border:1px solid #999;vertical-align:-2px;margin-right:4px}
.funnel td.bar{width:40%}
.funnel .fill{height:10px;border-radius:5px;background:#06c755;min-width:2px}
.reason,.field-error{color:#8a1c1c;font-size:.88rem;margin:2px 0 0}
.field-error:empty{display:none}
.ok{color:#125b2a}
form.stack label{display:block;font-weight:600;font-size:.9rem;margin:10px 0 2px}
form.stack .hint{font-weight:400;color:#666}
input,select,textarea{font:inherit;padding:7px 10px;border:1px solid #ccd;border-radius:8px;background:#fff;color:#1a1a1a;max-width:100%}
form.stack input:not([type=checkbox]):not([type=color]):not([type=file]),form.stack select,form.stack textarea{width:100%}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border-color:#c62828;background:#fff7f7}
input[type=color]{padding:2px;width:56px;height:36px}
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:0 16px}
.fields .wide{grid-column:1/-1}
.inline{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.inline>*{flex:1 1 120px}
.check{display:flex !important;gap:8px;align-items:center;font-weight:600}
.errors{background:#fde8e8;color:#8a1c1c;border:1px solid #f2b8b8;border-radius:10px;padding:10px 14px;margin:12px 0}
.errors ul{margin:4px 0 0;padding-left:1.2em}
.uploads{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.uploads form{display:flex;flex-direction:column;gap:8px}
.preview{max-width:160px;border-radius:8px;border:1px solid #ddd;background:#fff}
.form-layout{display:grid;grid-template-columns:minmax(0,1fr) 740px;gap:24px;align-items:start}
.preview-pane{position:sticky;top:8px;background:#fafbfc;border:1px solid #e3e5ea;border-radius:12px;padding:12px 16px}
.preview-pane h3{margin:0}
.langs-pick{display:flex;flex-wrap:wrap;gap:4px}
.langs-pick .tab{padding:4px 10px;font-size:.85rem}
.previews{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.previews figure{margin:0;max-width:100%;min-width:0}
.previews figcaption{font-weight:600;font-size:.85rem;color:#444;margin:0 0 6px}
.small{font-size:.8rem}
.line-chat{background:#8cabd9;border-radius:12px;padding:14px;width:300px;box-sizing:border-box}
.line-bubble{width:272px;border-radius:16px;overflow:hidden;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.2);font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans CJK JP","Noto Sans Thai",sans-serif}
.line-bubble img{display:block;width:100%;aspect-ratio:1/1;object-fit:cover}
.line-bubble .lb-body{padding:16px 18px 8px;display:flex;flex-direction:column;gap:10px;overflow-wrap:anywhere}
.line-bubble .lb-name{font-weight:700;font-size:1.2rem;line-height:1.3}
.line-bubble .lb-reward{font-size:1.05rem}
.line-bubble .lb-deadline{font-size:.82rem}
.line-bubble .lb-footer{padding:8px 12px 12px}
.line-bubble .lb-button{display:block;text-align:center;border-radius:8px;padding:12px 8px;color:#fff;font-weight:600;font-size:.95rem;overflow-wrap:anywhere}
.phone{width:380px;height:680px;box-sizing:border-box;border:10px solid #1a1a1a;border-radius:28px;overflow:hidden;background:#fff}
.phone iframe{width:100%;height:100%;border:0;display:block}
.zone{font-weight:400;color:#666}
ul.plain{list-style:none;padding:0;margin:6px 0}
ul.plain li{margin:4px 0}
.badge-paused{background:#fff4d6;color:#6b4a00}
.flow{border-top:1px solid #e3e5ea;padding:12px 0}
.flow:first-child{border-top:0}
.flow h3{margin:0 0 4px;font-size:1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
@media (max-width:1500px){
.form-layout{grid-template-columns:minmax(0,1fr) 420px}
}
@media (max-width:900px){
.form-layout{grid-template-columns:minmax(0,1fr)}
.preview-pane{position:static}
.line-chat,.phone{max-width:100%}
}
@media (max-width:860px){
main{padding:12px 12px 40px}
.grid2,.uploads{grid-template-columns:minmax(0,1fr)}
.fields{grid-template-columns:minmax(0,1fr)}
}
`;


/**
 * The marketers' admin page: campaigns, their funnel and records, serial packs and images, new
 * and edited campaigns, and the flows' status. A shell only, for a signed-in session (the session
 * cookie carries the API calls): every datum comes from the JSON API and is put in with textContent
 * by the client modules in src/client/admin/ (one per part of the page).
 */
export interface AdminDefaults {
  /** What a new campaign starts with: the service's DEFAULT_LOCALE and TZ_DEFAULT. */
  locale: Locale;
  timeZone: string;
  /** Channels configured here whose followers can be listed (the contacts view's sync buttons). */
  followerChannels?: readonly string[];
}

export function adminPage(nonce: string, defaults: AdminDefaults): string {
  const localeOptions = locales.map((l) => html`<option value="${l}"${l === defaults.locale ? html` selected` : ''}>${localeNames[l]} (${l})</option>`);
  const localeButtons = locales.map((l) => html`<button type="button" class="tab" data-preview-lang="${l}" lang="${l}">${localeNames[l]}</button>`);
  const statusOptions = couponStatuses.map((s) => html`<option value="${s}">${s}</option>`);
  const body = html`<main id="admin" data-default-locale="${defaults.locale}" data-default-time-zone="${defaults.timeZone}">
<header class="top">
<h1>chatcoupon admin</h1>
<nav id="nav" class="hidden" aria-label="Sections">
<a class="tab" href="#campaigns" data-tab="campaigns">Campaigns</a>
<a class="tab" href="#new" data-tab="new">New campaign</a>
<a class="tab" href="#flows" data-tab="flows">Flows</a>
${marketingTabs}
${extraTabs}
<button class="tab" id="logout" type="button">Sign out</button>
</nav>
</header>

${platformBanner}
<p id="error" class="reason" role="alert"></p>

<section id="view-campaigns" class="hidden">
<div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Campaigns</h2><label class="check"><input id="show-archived" type="checkbox"> Show archived</label><button class="btn btn-inline btn-secondary" id="refresh" type="button">Refresh</button></div>
<div class="table-wrap"><table id="campaigns">
<thead><tr><th>Name</th><th>Slug</th><th>Sending period</th><th>Reward</th><th>Visibility</th><th class="num">Stock left</th></tr></thead>
<tbody></tbody></table></div>
<p id="no-campaigns" class="muted hidden">No campaigns yet. Create one under “New campaign”.</p>
</div></div>

<section id="detail" class="hidden">
<div class="card"><div class="card-body">
<div class="row-actions"><h2 id="d-name" class="grow"></h2><span id="d-state" class="badge"></span><button class="btn btn-inline btn-secondary" id="edit" type="button">Edit</button></div>
<p id="edit-result" class="ok" role="status"></p>
<div class="row-actions" id="state-actions">
<button class="btn btn-inline btn-secondary" type="button" data-move="paused">Pause</button>
<button class="btn btn-inline btn-secondary" type="button" data-move="active">Resume</button>
<button class="btn btn-inline btn-secondary" type="button" data-move="ended">End</button>
<button class="btn btn-inline btn-secondary" type="button" data-move="archived">Archive</button>
<button class="btn btn-inline btn-secondary" type="button" data-move="unarchive">Take out of the archive</button>
<button class="btn btn-inline btn-secondary" type="button" id="duplicate">Duplicate</button>
<button class="btn btn-inline btn-dark" type="button" id="test-send">Send me a test</button>
<button class="linkish hidden" type="button" id="test-change">change my contact</button>
</div>
<p id="state-note" class="muted"></p>
<div id="confirm-move" class="errors hidden" role="alertdialog" aria-labelledby="confirm-text"><p id="confirm-text"></p>
<div class="row-actions"><button class="btn btn-inline btn-dark" type="button" id="confirm-yes"></button><button class="btn btn-inline btn-secondary" type="button" id="confirm-no">Keep it as it is</button></div></div>
<form id="test-pick" class="hidden stack"><label for="test-q">Who are you among the contacts? <span class="hint">(picked once: your tests go there)</span></label>
<div class="inline"><input id="test-q" type="search" placeholder="Your name as the chat shows it, or your exact user id" autocomplete="off"><button class="btn btn-inline btn-secondary" type="submit">Find</button></div>
<ul id="test-matches" class="plain"></ul></form>
<p id="state-result" role="status"></p>
<div class="grid2">
<div><h3>Settings</h3><dl class="settings" id="d-settings"></dl><img id="image-preview" class="preview hidden" alt="Coupon image"></div>
<div><h3>Funnel</h3>
<div class="table-wrap"><table class="funnel" id="funnel"><tbody></tbody></table></div>
<dl class="settings" id="funnel-extra"></dl>
<dl class="settings" id="funnel-revenue"></dl>
</div>
</div>
<div id="funnel-split" class="hidden"></div>
</div></div>

<div class="card"><div class="card-body">
<h2>Serials</h2>
<p id="pool-note" class="muted"></p>
<div class="uploads">
<form id="csv-form" data-pool="serials">
<label for="csv-file"><strong>CSV pack</strong> <span class="muted">one column, header on row 1, under 10 MB</span></label>
<input id="csv-file" name="file" type="file" accept=".csv,text/csv,text/plain" required>
<button class="btn btn-inline btn-dark" type="submit">Upload pack</button>
<p id="csv-result" role="status"></p>
<ul id="csv-rejected" class="reason"></ul>
</form>
<form id="fixed-form" data-pool="fixed">
<strong>Fixed serial</strong>
<div class="inline">
<input id="fixed-code" placeholder="Code, e.g. FNA@5841" aria-label="Fixed code" maxlength="16" autocomplete="off" required>
<input id="fixed-quantity" type="number" min="1" step="1" placeholder="Quantity" aria-label="Quantity" required>
</div>
<button class="btn btn-inline btn-dark" type="submit">Add fixed serial</button>
<p id="fixed-result" role="status"></p>
</form>
</div>
</div></div>

<div class="card"><div class="card-body">
<h2>Redemption records</h2>
<form id="records-filter" class="row-actions">
<label>Status <select id="r-status"><option value="">All</option>${statusOptions}</select></label>
<label>Issued from <input id="r-from" type="datetime-local"></label>
<label>to <input id="r-to" type="datetime-local"></label>
<span id="records-zone" class="muted"></span>
<button class="btn btn-inline btn-secondary" type="submit">Apply</button>
<button class="btn btn-inline btn-dark" id="download" type="button">Download CSV</button>
</form>
<p id="records-error" class="reason" role="alert"></p>
<div class="table-wrap records-wrap" id="records-wrap"><table id="records">
<thead><tr><th>Contact</th><th>Channel</th><th>Status</th><th>Delivery</th><th>Issued</th><th>Sent</th><th>Opened</th><th>Redeemed</th><th>Verified</th><th>Expires</th><th>Serial</th><th><span class="sr-only">History</span></th></tr></thead>
<tbody></tbody></table></div>
<p id="no-records" class="muted hidden">No records.</p>
<div class="row-actions"><button class="btn btn-inline btn-secondary hidden" id="more" type="button">Load more</button><span id="records-count" class="muted"></span></div>
${historyPanel}
</div></div>
</section>
</section>

<section id="view-new" class="hidden"><div class="card"><div class="card-body">
<h2 id="form-title">New campaign</h2>
<div class="form-layout">
<form id="create-form" class="stack" novalidate>
<div class="fields">
<div><label for="f-name">Name <span class="hint">(at most 50 characters)</span></label><input id="f-name" maxlength="200" autocomplete="off"><p class="field-error" data-error-for="name"></p></div>
<div><label for="f-slug">Slug <span class="hint" id="f-slug-hint">(the name flows use; empty: from the name)</span></label><input id="f-slug" autocomplete="off"><p class="field-error" data-error-for="slug"></p></div>
<div><label for="f-visibility">Visibility</label><select id="f-visibility"><option value="public">Public (flows, API, agents)</option><option value="private">Private (an agent sends it to one chat)</option></select><p class="field-error" data-error-for="visibility"></p></div>
<div><label for="f-reward-type">Reward</label><select id="f-reward-type"><option value="percent">Percentage off</option><option value="amount">Fixed amount off</option><option value="gift">Free item / gift / other</option></select><p class="field-error" data-error-for="reward.type"></p></div>
<div data-reward="percent amount"><label for="f-reward-value" id="f-reward-value-label">Discount</label><input id="f-reward-value" type="number" step="any" inputmode="decimal"><p class="field-error" data-error-for="reward.value"></p></div>
<div data-reward="gift" class="hidden"><label for="f-reward-text">Gift text <span class="hint">(e.g. Free drink)</span></label><input id="f-reward-text" maxlength="300" autocomplete="off"><p class="field-error" data-error-for="reward.text"></p></div>
<div><label for="f-currency">Currency <span class="hint">(amount off or minimum spend, e.g. JPY)</span></label><input id="f-currency" maxlength="3" autocomplete="off"><p class="field-error" data-error-for="reward.currency"></p></div>
<div><label for="f-min-spend">Minimum spend <span class="hint">(optional)</span></label><input id="f-min-spend" type="number" step="any" inputmode="decimal"><p class="field-error" data-error-for="reward.minSpend"></p></div>
<div class="wide"><label for="f-instructions">Usage instructions <span class="hint">(shown on the coupon page; **bold**, lines starting with - as a list, links)</span></label><textarea id="f-instructions" rows="4"></textarea><p class="field-error" data-error-for="instructions"></p></div>
<div><label for="f-locale">Customers' language <span class="hint">(when theirs is not known)</span></label><select id="f-locale">${localeOptions}</select><p class="field-error" data-error-for="locale"></p></div>
<div class="wide"><label for="f-time-zone">Time zone <span class="hint">(the dates below, and every date customers see)</span></label><select id="f-time-zone"></select><p class="field-error" data-error-for="timeZone"></p></div>
<div><label for="f-send-start">Sending starts <span class="hint zone" data-zone></span></label><input id="f-send-start" type="datetime-local"><p class="field-error" data-error-for="sendStart"></p></div>
<div><label for="f-send-end">Sending ends <span class="hint zone" data-zone></span></label><input id="f-send-end" type="datetime-local"><p class="field-error" data-error-for="sendEnd"></p></div>
<div><label for="f-limit">Coupons per customer</label><input id="f-limit" type="number" step="1" value="1" inputmode="numeric"><p class="field-error" data-error-for="perContactLimit"></p></div>
<div><label for="f-expiry-mode">Expiry</label><select id="f-expiry-mode"><option value="fromSend">Interval from sending</option><option value="fromRedeem">Countdown from redemption</option></select><p class="field-error" data-error-for="expiry.mode"></p></div>
<div><label for="f-expiry-amount">Expires after</label><div class="inline"><input id="f-expiry-amount" type="number" step="1" value="7" aria-label="Expiry amount" inputmode="numeric"><select id="f-expiry-unit" aria-label="Expiry unit"><option value="days">days</option><option value="hours">hours</option></select></div><p class="field-error" data-error-for="expiry"></p></div>
<div><label for="f-redeem-by">Redeem by <span class="hint">(countdown only; optional)</span> <span class="hint zone" data-zone></span></label><input id="f-redeem-by" type="datetime-local"><p class="field-error" data-error-for="redeemBy"></p></div>
<div><label for="f-barcode">Barcode</label><select id="f-barcode"><option value="qr">QR</option><option value="code128">CODE_128</option><option value="code39">CODE_39</option></select><p class="field-error" data-error-for="barcode"></p></div>
<div><label class="check"><input id="f-verification" type="checkbox"> Staff verification button</label><p class="field-error" data-error-for="verification"></p></div>
<div class="wide"><label>Colours</label><div class="inline colours">
<label class="check"><input id="f-color-background" type="color" value="#ffffff"> background</label>
<label class="check"><input id="f-color-button" type="color" value="#06c755"> button</label>
<label class="check"><input id="f-color-button-text" type="color" value="#ffffff"> button text</label>
</div><p class="field-error" data-error-for="colors"></p></div>
<div class="wide"><label for="f-image">Coupon image <span class="hint">(JPG or PNG under 1 MB, 640×640 recommended; optional)</span></label>
<div class="inline image-pick"><input id="f-image" type="file" accept="image/jpeg,image/png"><button class="btn btn-inline btn-secondary hidden" id="f-image-clear" type="button">Keep the current image</button></div>
<p id="f-image-note" class="muted"></p><p class="field-error" data-error-for="image"></p></div>
</div>
<div id="create-errors" class="errors hidden" role="alert"><strong id="form-errors-title">The campaign was not created:</strong><ul></ul></div>
<div class="row-actions"><button class="btn btn-inline btn-dark" id="create" type="submit">Create campaign</button><button class="btn btn-inline btn-secondary hidden" id="cancel-edit" type="button">Cancel</button><span id="create-result" role="status"></span></div>
</form>
<aside class="preview-pane" id="preview" aria-label="Preview">
<div class="row-actions"><h3 class="grow">What customers see</h3>
<div class="langs-pick" role="group" aria-label="Preview language">${localeButtons}</div></div>
<p id="preview-note" class="muted" role="status"></p>
<div class="previews">
<figure><figcaption>The card in LINE</figcaption>
<div class="line-chat"><div id="line-card" class="line-bubble" data-lang="en"></div></div>
<p class="muted small" id="line-alt"></p></figure>
<figure><figcaption>The coupon page on a phone</figcaption>
<div class="phone"><iframe name="preview-page" id="preview-page" title="Coupon page preview" sandbox></iframe></div></figure>
</div>
<form id="preview-form" method="post" action="/admin/preview" target="preview-page" class="hidden">
<input type="hidden" name="campaign"><input type="hidden" name="campaignId"><input type="hidden" name="locale"><input type="hidden" name="image">
</form>
</aside>
</div>
</div></div></section>

${flowsSection}
${contactsView(defaults.followerChannels ?? [])}
${broadcastsView}
${webhooksSection}
${peopleSection}
${auditSection}
</main>`;
  return renderPage({ title: 'chatcoupon admin', nonce, body, css: css + marketingCss + insightsCss, scripts: [assetUrl('admin/main.ts')] });
}
