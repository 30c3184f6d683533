import { assetUrl } from './client-assets.ts';
import { html, renderPage } from './html.ts';

/** The conversation the workbench sends into, as the embedding inbox names it. */
export type WorkbenchTarget = { conversationId: string } | { channel: string; externalId: string } | null;

const css = `
main{max-width:720px}
.bar{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 12px}
.bar input,.bar select{flex:1 1 140px;min-width:0;padding:10px 12px;border:1px solid #ccd;border-radius:10px;font:inherit;background:#fff;color:#1a1a1a}
.item{cursor:pointer;width:100%;text-align:left;border:0;font:inherit;display:block}
.item:focus-visible{outline:3px solid #0b63c5}
.row{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;background:#eef;color:#224;margin-right:4px}
.badge-no{background:#fde8e8;color:#8a1c1c}
.badge-yes{background:#e6f6ea;color:#125b2a}
.reason{color:#8a1c1c;font-size:.9rem;margin:4px 0 0}
.pre{white-space:pre-wrap;overflow-wrap:anywhere}
.rich{overflow-wrap:anywhere}
.rich p,.rich ul{margin:0 0 6px}
.rich ul{padding-left:1.3em}
.hidden{display:none}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0}
dt{color:#666}dd{margin:0}
`;

/**
 * The agents' workbench: embeddable beside a conversation in an inbox. For a signed-in session
 * (the cookie carries the API calls); everything comes from the workbench JSON API and is put
 * into the page with textContent, never as markup, by src/client/workbench/main.ts; the
 * conversation the inbox names is in `data-target`.
 */
export function workbenchPage(target: WorkbenchTarget, nonce: string): string {
  const body = html`<main id="workbench" data-target="${JSON.stringify(target)}">
<h1>Coupons</h1>
<section id="app">
<div class="bar">
<input id="conversation" placeholder="Conversation id" aria-label="Conversation id" autocomplete="off">
</div>
<p id="chat" class="muted" role="status"></p>
<div class="bar">
<input id="q" type="search" placeholder="Search by name" aria-label="Search by name" autocomplete="off">
<select id="reward" aria-label="Reward"><option value="">Any reward</option><option value="percent">% off</option><option value="amount">Amount off</option><option value="gift">Gift / other</option></select>
<select id="visibility" aria-label="Visibility"><option value="">Public and private</option><option value="public">Public</option><option value="private">Private</option></select>
</div>
<p id="error" class="reason" role="alert"></p>
<div id="list-view"><ul id="list" class="list"></ul><p id="empty" class="muted hidden">No coupon can be sent now.</p></div>
<section id="detail" class="card hidden"><div class="card-body">
<h2 id="d-name"></h2>
<p class="reward" id="d-reward"></p>
<dl>
<dt>Visibility</dt><dd id="d-visibility"></dd>
<dt>Stock left</dt><dd id="d-stock"></dd>
<dt>Sending period</dt><dd id="d-period"></dd>
<dt>Per customer</dt><dd id="d-limit"></dd>
</dl>
<div id="d-instructions" class="rich muted"></div>
<p id="d-reason" class="reason"></p>
<p id="d-result" role="status"></p>
<div class="actions"><button class="btn btn-secondary" id="back" type="button">Back</button><button class="btn" id="send" type="button">Send</button></div>
</div></section>
<p class="muted"><button class="btn btn-secondary" id="logout" type="button">Sign out</button></p>
</section>
</main>`;
  return renderPage({ title: 'Coupon workbench', nonce, body, css, scripts: [assetUrl('workbench/main.ts')] });
}
