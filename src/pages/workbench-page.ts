import { assetUrl } from './client-assets.ts';
import { html, renderPage } from './html.ts';

/** The conversation the workbench opens on, as the embedding inbox names it. */
export type WorkbenchTarget = { conversationId: string } | { channel: string; externalId: string } | null;

const css = `
main{max-width:720px}
.top{display:flex;justify-content:space-between;align-items:center;gap:8px}
.link{background:none;border:0;color:#0b63c5;font:inherit;cursor:pointer;padding:8px 0}
.bar{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 12px}
.bar input,.bar select{flex:1 1 140px;min-width:0;padding:10px 12px;border:1px solid #ccd;border-radius:10px;font:inherit;background:#fff;color:#1a1a1a}
.small{display:inline-block;width:auto;padding:8px 14px;margin:0;font-size:.95rem}
.item{cursor:pointer;width:100%;text-align:left;border:0;font:inherit;display:block}
.item:focus-visible{outline:3px solid #0b63c5}
.row{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;background:#eef;color:#224;margin-right:4px}
.badge-no{background:#fde8e8;color:#8a1c1c}
.badge-yes{background:#e6f6ea;color:#125b2a}
.badge-wait{background:#fff4e5;color:#5a3600}
.reason{color:#8a1c1c;font-size:.9rem;margin:4px 0 0}
.ok{color:#125b2a;font-weight:600}
.pre{white-space:pre-wrap;overflow-wrap:anywhere}
.rich{overflow-wrap:anywhere}
.rich p,.rich ul{margin:0 0 6px}
.rich ul{padding-left:1.3em}
.hidden{display:none}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0}
dt{color:#666}dd{margin:0}
h3{font-size:1rem;margin:18px 0 6px}
.snippet{margin:4px 0 0;font-size:.9rem;color:#333;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.held{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px}
.messages{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:6px}
.msg{max-width:85%;padding:8px 12px;border-radius:14px;background:#fff;color:#1a1a1a;box-shadow:0 1px 3px rgba(0,0,0,.1);white-space:pre-wrap;overflow-wrap:anywhere}
.msg-out{align-self:flex-end;background:#dcf3e4}
.msg time{display:block;font-size:.75rem;color:#666}
.chat-card{max-width:300px;border-radius:16px;overflow:hidden;box-shadow:0 2px 10px rgba(0,0,0,.15);margin:8px 0;background:#fff;color:#1a1a1a}
.chat-card img{display:block;width:100%;aspect-ratio:1/1;object-fit:cover}
.chat-card .body{padding:12px 14px}
.chat-card .name{font-weight:700;margin:0}
.chat-card .reward{font-size:1.1rem;margin:4px 0}
.chat-card .deadline{font-size:.85rem;color:#555;margin:0}
.chat-card .btn{margin:10px 0 0;padding:10px}
`;

/**
 * The agents' workbench: the chats active now (and the handoff queue), one chat with its recent
 * messages and the coupons that can be sent there, the card as it goes out and its delivery.
 * Embeddable beside a conversation in an inbox: the conversation the inbox names is in
 * `data-target`, and the page opens straight on it. Everything comes from the workbench JSON API
 * and is put into the page as text by src/client/workbench/main.ts.
 */
export function workbenchPage(target: WorkbenchTarget, nonce: string): string {
  const body = html`<main id="workbench" data-target="${JSON.stringify(target)}">
<div class="top"><h1 id="title">Chats</h1><button class="link" id="logout" type="button">Sign out</button></div>
<p id="error" class="reason" role="alert"></p>
<section id="chats-view">
<section id="handoffs" class="hidden">
<h2>Waiting for an agent</h2>
<ul id="handoff-list" class="list"></ul>
</section>
<div class="bar">
<select id="channel-filter" aria-label="Channel"><option value="">All channels</option></select>
<button class="btn btn-secondary small" id="refresh" type="button">Refresh</button>
</div>
<ul id="chat-list" class="list"></ul>
<p id="no-chats" class="muted hidden">No customer has written lately.</p>
</section>
<section id="chat-view" class="hidden">
<button class="btn btn-secondary small" id="to-chats" type="button">All chats</button>
<h2 id="c-name"></h2>
<p id="c-meta" class="muted"></p>
<p id="chat" role="status"></p>
<div id="c-handoff" class="notice hidden">
<p id="c-handoff-text"></p>
<div class="actions"><button class="btn small" id="take" type="button">Take this chat</button><button class="btn btn-secondary small" id="release" type="button">Give back to the bot</button></div>
</div>
<h3>Recent messages</h3>
<ol id="c-messages" class="messages"></ol>
<p id="c-no-messages" class="muted hidden">No message in the last days.</p>
<h3>Coupons they hold</h3>
<ul id="c-coupons" class="held"></ul>
<p id="c-no-coupons" class="muted hidden">None yet.</p>
<h3>Send a coupon</h3>
<div class="bar">
<input id="q" type="search" placeholder="Search by name" aria-label="Search by name" autocomplete="off">
<select id="reward" aria-label="Reward"><option value="">Any reward</option><option value="percent">% off</option><option value="amount">Amount off</option><option value="gift">Gift / other</option></select>
<select id="visibility" aria-label="Visibility"><option value="">Public and private</option><option value="public">Public</option><option value="private">Private</option></select>
</div>
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
<div id="sent" class="hidden">
<p class="muted">The card as the customer sees it:</p>
<div id="sent-card" class="chat-card"></div>
<p id="delivery" role="status" aria-live="polite"></p>
</div>
<div class="actions"><button class="btn btn-secondary" id="back" type="button">Back</button><button class="btn" id="send" type="button">Send</button></div>
</div></section>
</section>
</main>`;
  return renderPage({ title: 'Coupon workbench', nonce, body, css, scripts: [assetUrl('workbench/main.ts')] });
}
