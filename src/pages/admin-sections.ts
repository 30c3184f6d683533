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
