import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { contactOf, dispatch, eventually, flowCampaign, flowsDir, registryOf, runsOf, textsOf } from './flow-support.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { resumeDueRuns } from '../../src/flows/jobs.ts';
import { flowsResumeJob } from '../../src/jobs/catalog.ts';
import { startService, type Service } from '../../src/service.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ADMIN_TOKEN } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const files = {
  'drip.yaml': `
id: drip
trigger: { follow: true }
steps:
  - say: "Hi"
  - wait: 10m
  - say: "Ten minutes later"
  - coupon: drip-gift
`,
  'quick.yaml': `
id: quick
trigger: { keyword: quick }
steps:
  - wait: 1s
  - say: "One second later"
`,
};

let database: TestDatabase;
let dir: string;
let config: Config;
let now = new Date('2026-03-01T09:00:00Z');
const running: Service[] = [];

async function start(opts: { workers: boolean; clock?: () => Date }): Promise<Service> {
  const svc = await startService(config, { log: pino({ level: 'silent' }), workers: opts.workers, ...(opts.clock ? { clock: opts.clock } : {}) });
  running.push(svc);
  return svc;
}
async function stop(svc: Service): Promise<void> {
  running.splice(running.indexOf(svc), 1);
  await svc.stop();
}

beforeAll(async () => {
  database = await createTestDatabase();
  dir = flowsDir(files);
  config = loadConfig({ PORT: '0', DATABASE_URL: database.url, ADMIN_TOKEN, PUBLIC_BASE_URL: 'http://coupons.test', FLOWS_DIR: dir, LOG_LEVEL: 'silent' });
});
afterAll(async () => {
  for (const svc of running.splice(0)) await svc.stop();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('wait', () => {
  it('survives a restart: the resume job of the new process continues the run once', async () => {
    const a = await start({ workers: false, clock: () => now });
    await flowCampaign(a.ctx, 'drip-gift');
    await registryOf(a.ctx).reload();
    await dispatch(a.ctx, 'line', 'U-drip', { type: 'follow' });
    const contact = await contactOf(a.ctx, 'line', 'U-drip');
    const [run] = await runsOf(a.ctx, contact.id);
    expect(run).toMatchObject({ status: 'waiting', waitingFor: 'resume', stepPath: '1' });
    const job = (await query(a.ctx.db, sql`SELECT data, singleton_key AS "key", start_after AS "startAfter" FROM pgboss.job WHERE name = 'flows.resume'`)).rows;
    expect(job).toEqual([{ data: { runId: run!.id, stepPath: '1' }, key: `${run!.id}:1`, startAfter: new Date('2026-03-01T09:10:00Z') }]);
    expect(await textsOf(a.ctx, 'line', 'U-drip')).toEqual(['Hi']);
    await stop(a);

    now = new Date('2026-03-01T09:10:05Z');
    const b = await start({ workers: false, clock: () => now });
    await flowsResumeJob.handler({ runId: run!.id, stepPath: '1' }, b.ctx);
    expect(await textsOf(b.ctx, 'line', 'U-drip')).toEqual(['Hi', 'Ten minutes later', '[coupon Campaign drip-gift]']);
    expect((await runsOf(b.ctx, contact.id)).map((r) => r.status)).toEqual(['done']);
    // The same job delivered again, and the overdue sweep, change nothing.
    await flowsResumeJob.handler({ runId: run!.id, stepPath: '1' }, b.ctx);
    now = new Date('2026-03-01T10:00:00Z');
    expect(await resumeDueRuns(b.ctx)).toBe(0);
    expect(await textsOf(b.ctx, 'line', 'U-drip')).toHaveLength(3);
    const steps = await query(b.ctx.db, sql`SELECT step_path AS "path", outcome FROM flow_step_runs WHERE run_id = ${run!.id} ORDER BY id`);
    expect(steps.rows).toEqual([
      { path: '0', outcome: 'completed' }, { path: '1', outcome: 'waiting' }, { path: '1', outcome: 'completed' },
      { path: '2', outcome: 'completed' }, { path: '3', outcome: 'completed' },
    ]);
    await stop(b);
  });

  it('resumes runs whose job was lost, through the overdue sweep', async () => {
    now = new Date('2026-03-02T09:00:00Z');
    const a = await start({ workers: false, clock: () => now });
    await dispatch(a.ctx, 'line', 'U-lost', { type: 'follow' });
    await query(a.ctx.db, sql`DELETE FROM pgboss.job WHERE name = 'flows.resume'`);
    now = new Date('2026-03-02T09:10:10Z');
    expect(await resumeDueRuns(a.ctx)).toBe(0); // within the grace period the job still has its chance
    now = new Date('2026-03-02T09:11:00Z');
    expect(await resumeDueRuns(a.ctx)).toBe(1);
    expect(await textsOf(a.ctx, 'line', 'U-lost')).toEqual(['Hi', 'Ten minutes later', '[coupon Campaign drip-gift]']);
    await stop(a);
  });

  it('is woken by pg-boss in a process started after the wait ran out', async () => {
    const a = await start({ workers: false });
    await dispatch(a.ctx, 'line', 'U-quick', { type: 'message', kind: 'text', text: 'quick' });
    // Down while the wait runs out: the new process's workers fetch the due job when they start.
    await eventually(async () => (await query(a.ctx.db, sql`SELECT 1 FROM pgboss.job WHERE name = 'flows.resume' AND state = 'created' AND start_after <= now()`)).rows.length === 1, 5000, 'the wait to run out');
    await stop(a);
    const b = await start({ workers: true });
    await eventually(async () => (await textsOf(b.ctx, 'line', 'U-quick')).length === 1, 10_000, 'the resume job');
    expect(await textsOf(b.ctx, 'line', 'U-quick')).toEqual(['One second later']);
    const contact = await contactOf(b.ctx, 'line', 'U-quick');
    expect((await runsOf(b.ctx, contact.id)).map((r) => r.status)).toEqual(['done']);
    await stop(b);
  });
});
