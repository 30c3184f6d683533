import { assetUrl } from './client-assets.ts';
import { html, renderPage } from './html.ts';

/** One-handed on a phone at the till: every control is a full-width button at least 56 px high. */
const css = `
main{max-width:480px;padding:12px 12px 32px}
.big{min-height:56px;font-size:1.1rem}
.camera{position:relative;margin:12px 0 0;border-radius:14px;overflow:hidden;background:#111;aspect-ratio:4/3}
.camera video{display:block;width:100%;height:100%;object-fit:cover}
.camera .aim{position:absolute;inset:22% 10%;border:3px solid rgba(255,255,255,.85);border-radius:10px;pointer-events:none}
.camera-status{margin:6px 0 0;font-size:.95rem}
form label{display:block;font-weight:600;margin:16px 0 6px}
.field{display:block;width:100%;min-height:56px;padding:12px 14px;border:2px solid #99a;border-radius:12px;font:inherit;font-size:1.2rem;background:#fff;color:#1a1a1a}
.field:focus{outline:3px solid #0b63c5;border-color:#0b63c5}
.code-field{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.05em;text-transform:uppercase}
.row{display:flex;gap:8px}
.row .field{flex:1 1 auto;min-width:0}
.row .currency{flex:0 0 5.5em;text-transform:uppercase}
.reason{color:#8a1c1c;font-weight:600;margin:12px 0 0}
.ok{color:#125b2a;font-weight:700;font-size:1.1rem;margin:12px 0 0}
.hidden{display:none}
.history{margin:8px 0 0;padding-left:1.25em;font-size:.95rem;color:#333}
.history li{margin:4px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0 0}
dt{color:#666}dd{margin:0}
h3{font-size:1rem;margin:20px 0 0}
`;

/**
 * The staff scanner at the till: scan the customer's QR / CODE_128 / CODE_39 with the camera or
 * type the code, see the coupon, verify it (with the order's total when the shop asks for it) or
 * read why not, and undo a verification within 30 minutes. Everything is filled in by
 * src/client/staff/main.ts from the verification API, as text.
 */
export function staffPage(nonce: string): string {
  const body = html`<main id="staff">
<h1>Scan a coupon</h1>
<section id="scan">
<div id="camera" class="camera hidden"><video id="video" playsinline muted autoplay></video><div class="aim"></div></div>
<p id="camera-status" class="camera-status muted" role="status"></p>
<button class="btn big" id="start-camera" type="button">Scan with the camera</button>
<button class="btn btn-secondary big hidden" id="stop-camera" type="button">Stop the camera</button>
<form id="manual" novalidate>
<label for="code">Or type the code under the barcode</label>
<input class="field code-field" id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" enterkeyhint="search" maxlength="64">
<button class="btn big" id="lookup" type="submit">Look up</button>
</form>
</section>
<p id="error" class="reason" role="alert"></p>
<section id="result" class="card hidden" aria-live="polite"><div class="card-body">
<h2 id="r-name"></h2>
<p class="reward" id="r-reward"></p>
<p><span id="r-status" class="status"></span></p>
<dl>
<dt>Code</dt><dd id="r-code"></dd>
<dt>Use by</dt><dd id="r-deadline"></dd>
</dl>
<p id="r-why" class="reason" role="alert"></p>
<form id="verify-form" class="hidden" novalidate>
<div id="amount-box" class="hidden">
<label for="amount" id="amount-label">Order total</label>
<div class="row"><input class="field" id="amount" name="amount" type="number" inputmode="decimal" min="0" step="any" autocomplete="off">
<input class="field currency hidden" id="currency" name="currency" maxlength="3" placeholder="TWD" aria-label="Currency" autocomplete="off" autocapitalize="characters"></div>
</div>
<button class="btn big" id="verify" type="submit">Verify</button>
</form>
<p id="r-done" class="ok" role="status"></p>
<div id="undo-box" class="hidden">
<p id="undo-until" class="muted"></p>
<label for="undo-reason" class="muted">Why undo</label>
<select class="field" id="undo-reason">
<option>Verified by mistake</option>
<option>The order was cancelled</option>
<option>The wrong coupon was scanned</option>
</select>
<button class="btn btn-secondary big" id="undo" type="button">Undo the verification</button>
</div>
<h3>What was done with it</h3>
<ol id="r-history" class="history"></ol>
<button class="btn big" id="next" type="button">Scan the next coupon</button>
</div></section>
<p><button class="btn btn-secondary" id="logout" type="button">Sign out</button></p>
</main>`;
  return renderPage({ title: 'Coupon scanner', nonce, body, css, scripts: [assetUrl('staff/main.ts')] });
}
