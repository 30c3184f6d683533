import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { PgBoss } from 'pg-boss';
import { pino } from 'pino';
import request from 'supertest';
import { z } from 'zod';
import { flowsResumeJob, jobCatalog, serialImportJob } from '../../src/jobs/catalog.ts';
import { defineJob } from '../../src/jobs/define.ts';
import { DEAD_LETTER_QUEUE, InvalidJobPayloadError, JobRunner, queuePolicy } from '../../src/jobs/runner.ts';
import type { AppContext } from '../../src/context.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTestService, type TestService } from '../support/service.ts';

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('queue policies on an existing database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('a queue created with an old policy gets the catalog policy on start, and is left alone afterwards', async () => {
    // An installation of an earlier version: queues created with other retry and expiry settings, no dead-letter queue.
    const old = new PgBoss({ connectionString: db.url, max: 2 });
    old.on('error', () => undefined);
    await old.start();
    for (const job of jobCatalog) await old.createQueue(job.name, { retryLimit: 1, retryDelay: 1, retryBackoff: false, expireInSeconds: 60 });
    await old.stop({ graceful: false, close: true });

    const first = capturingLogger();
    const runner = new JobRunner(db.url, jobCatalog, first.log);
    await runner.start({} as AppContext, { work: false });
    try {
      for (const job of jobCatalog) {
        const q = await runner.boss.getQueue(job.name);
        expect(q).toMatchObject(queuePolicy(job));
      }
      expect((await runner.boss.getQueue(DEAD_LETTER_QUEUE))?.retentionSeconds).toBe(365 * 86_400);
    } finally {
      await runner.stop();
    }
    const updates = first.lines.filter((l) => l.msg === 'job queue policy updated');
    expect(updates.map((l) => l.queue).sort()).toEqual(jobCatalog.map((j) => j.name).sort());
    const sweep = updates.find((l) => l.queue === 'coupons.expiry-sweep')!;
    expect(sweep.changed).toMatchObject({ retryLimit: { from: 1, to: 3 }, deadLetter: { from: null, to: DEAD_LETTER_QUEUE } });

    // The next start finds every policy as the code says: nothing to update.
    const second = capturingLogger();
    const again = new JobRunner(db.url, jobCatalog, second.log);
    await again.start({} as AppContext, { work: false });
    await again.stop();
    expect(second.lines.filter((l) => l.msg === 'job queue policy updated')).toEqual([]);
  });
});

describe('dead letters', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc.stop();
  });

  const list = async (query = '') => {
    const res = await request(svc.url).get(`/api/v1/jobs/dead-letters${query}`).set(svc.admin);
    expect(res.status).toBe(200);
    return res.body as { deadLetters: Array<Record<string, unknown>>; next: string | null };
  };

  it('a payload refused by its schema when sent is not queued: the sender gets an error and the payload is listed', async () => {
    const bad = { importId: 42 } as unknown as { importId: string };
    await expect(svc.jobs.send(serialImportJob, bad)).rejects.toThrow(InvalidJobPayloadError);
    expect(await svc.jobs.boss.findJobs(serialImportJob.name)).toEqual([]);
    const { deadLetters } = await list();
    expect(deadLetters).toContainEqual(expect.objectContaining({
      queue: serialImportJob.name, reason: 'invalid_payload', stage: 'send', payload: { importId: 42 },
      issues: [expect.objectContaining({ path: 'importId' })],
    }));
  });

  it('a payload refused when consumed (queued by an older version or by hand) is moved to the list, not dropped', async () => {
    const id = await svc.jobs.boss.send(flowsResumeJob.name, { runId: 7 });
    expect(await svc.jobs.workOnce(svc.ctx, flowsResumeJob)).toBe(1);
    const [job] = await svc.jobs.boss.findJobs(flowsResumeJob.name, { id: id! });
    expect(job?.state).toBe('completed');
    const { deadLetters } = await list();
    expect(deadLetters).toContainEqual(expect.objectContaining({
      queue: flowsResumeJob.name, reason: 'invalid_payload', stage: 'consume', payload: { runId: 7 },
    }));
  });

  it('lists page by page, and refuses a bad query or a missing token', async () => {
    const all = await list();
    expect(all.deadLetters.length).toBeGreaterThanOrEqual(2);
    const first = await list('?limit=1');
    expect(first.deadLetters).toHaveLength(1);
    expect(first.next).toBe(first.deadLetters[0]!.id);
    const second = await list(`?limit=1&after=${first.next}`);
    expect(second.deadLetters[0]!.id).toBe(all.deadLetters[1]!.id);

    let res = await request(svc.url).get('/api/v1/jobs/dead-letters?limit=0').set(svc.admin);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    res = await request(svc.url).get('/api/v1/jobs/dead-letters?after=not-an-id').set(svc.admin);
    expect(res.status).toBe(400);
    res = await request(svc.url).get('/api/v1/jobs/dead-letters?after=00000000-0000-4000-8000-000000000000').set(svc.admin);
    expect(res.status).toBe(404);
    res = await request(svc.url).get('/api/v1/jobs/dead-letters');
    expect(res.status).toBe(401);
  });
});

describe('jobs that fail all their retries', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('are copied to the dead-letter list with their error', async () => {
    const failing = defineJob({
      name: 'test.always-fails', payload: z.object({ n: z.number() }),
      retryLimit: 0, retryDelaySeconds: 1, retryBackoff: false, expireInSeconds: 60, batchSize: 1,
      handler: async () => { throw new Error('the printer is on fire'); },
    });
    const runner = new JobRunner(db.url, [failing], pino({ level: 'silent' }));
    await runner.start({} as AppContext, { work: false });
    try {
      await runner.send(failing, { n: 1 });
      expect(await runner.workOnce({} as AppContext, failing)).toBe(1);
      const { deadLetters } = await runner.listDeadLetters({ limit: 10 });
      expect(deadLetters).toEqual([expect.objectContaining({ queue: failing.name, reason: 'failed', payload: { n: 1 } })]);
      expect(JSON.stringify(deadLetters[0]!.error)).toContain('the printer is on fire');
    } finally {
      await runner.stop();
    }
  });
});
