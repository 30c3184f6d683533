import { Router } from 'express';
import type { DeadLetter } from '../jobs/contract.ts';
import type { RouteModule } from '../http/app.ts';
import { serviceStatus } from '../maintenance/status.ts';
import { html, renderPage, sendPage } from './html.ts';
import { pageRole } from './page-gate.ts';

type Status = Awaited<ReturnType<typeof serviceStatus>>;

const css = `
main{max-width:1100px;padding:16px 20px 40px}
.table-wrap{overflow-x:auto;position:relative}
table{border-collapse:collapse;width:100%;font-size:.92rem;background:#fff;color:#1a1a1a}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e3e5ea;vertical-align:top}
th{background:#fafbfc;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.down{color:#8a1c1c;font-weight:600}
.up{color:#125b2a;font-weight:600}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.8rem}
`;

const fmt = (d: Date | string | null) => (d ? new Date(d).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—');
const n = (v: number | string) => Number(v).toLocaleString('en');

function bytes(v: number | string): string {
  const b = Number(v);
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(1)} GB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MB`;
  return `${Math.ceil(b / 1024)} kB`;
}

/**
 * The operator's status page (`/admin/status`, owner only): each chat platform up or down with the
 * messages waiting for it, the jobs that ended in the dead-letter queue, and the tables' sizes.
 * Plain HTML with no script; it reads the service again every minute.
 */
export function statusPage(s: Status, dead: DeadLetter[], moreDead: boolean, now: Date, nonce: string): string {
  const body = html`<main>
<h1>chatcoupon status</h1>
<p class="muted">As of ${fmt(now)}; this page reads the service again every minute. <a href="/admin">Back to the admin console</a></p>
<div class="card"><div class="card-body">
<h2>Chat platforms</h2>
<div class="table-wrap"><table id="platforms"><thead><tr><th>Platform</th><th>State</th><th>Since</th><th class="num">Messages waiting</th><th>Next try</th></tr></thead><tbody>
${s.platforms.map((p) => html`<tr data-platform="${p.channel}"><td>${p.label}</td><td class="${p.down ? 'down' : 'up'}">${p.down ? 'down' : 'answering'}</td>
<td>${p.down ? fmt(p.since) : '—'}</td><td class="num">${n(p.waiting)}</td><td>${p.down ? fmt(p.nextTry) : '—'}</td></tr>`)}
</tbody></table></div>
${s.platforms.length ? '' : html`<p class="muted">No chat platform is configured.</p>`}
</div></div>
<div class="card"><div class="card-body">
<h2>Dead-letter jobs</h2>
<p class="muted">Jobs refused by their schema or failed after all their retries; kept a year. All of them: <code>GET /api/v1/jobs/dead-letters</code>.</p>
${dead.length ? html`<div class="table-wrap"><table id="dead-letters"><thead><tr><th>When</th><th>Queue</th><th>Why</th><th>Details</th></tr></thead><tbody>
${dead.map((d) => html`<tr data-dead="${d.id}"><td>${fmt(d.deadAt)}</td><td><code>${d.queue ?? '—'}</code></td>
<td>${d.reason === 'failed' ? 'failed all its retries' : `payload refused when ${d.stage === 'consume' ? 'taken' : 'sent'}`}</td>
<td><pre>${d.issues.length ? d.issues.map((i) => `${i.path}: ${i.message}`).join('\n') : errorText(d.error)}</pre></td></tr>`)}
</tbody></table></div>${moreDead ? html`<p class="muted">Only the first ${dead.length} are shown.</p>` : ''}` : html`<p id="no-dead-letters">None.</p>`}
</div></div>
<div class="card"><div class="card-body">
<h2>Tables</h2>
<p class="muted">Processed events and delivered messages are kept ${s.retention.days} days, failures ${s.retention.failedDays} days (<code>RETENTION_DAYS</code>, <code>RETENTION_FAILED_DAYS</code>); row counts are PostgreSQL's estimates.</p>
<div class="table-wrap"><table id="tables"><thead><tr><th>Table</th><th class="num">Rows (about)</th><th class="num">Size</th></tr></thead><tbody>
${s.tables.map((t) => html`<tr data-table="${t.table}"><td><code>${t.table}</code></td><td class="num">${n(t.rows)}</td><td class="num">${bytes(t.bytes)}</td></tr>`)}
</tbody></table></div>
</div></div>
</main>`;
  return renderPage({ title: 'chatcoupon status', nonce, body, css });
}

function errorText(error: unknown): string {
  if (error === null || error === undefined) return '';
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : JSON.stringify(error).slice(0, 500);
}

const DEAD_SHOWN = 50;

export const statusPageRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.get('/admin/status', pageRole(auth, 'owner'), async (_req, res) => {
    const [status, dead] = await Promise.all([serviceStatus(ctx), ctx.jobs.listDeadLetters({ limit: DEAD_SHOWN })]);
    res.set('Refresh', '60');
    sendPage(res, 200, (nonce) => statusPage(status, dead.deadLetters, dead.next !== null, ctx.clock(), nonce));
  });
  return router;
};
