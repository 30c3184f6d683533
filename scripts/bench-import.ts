/**
 * bench:import — loads a 1,000,000-row CSV pack (just under 10 MB) over HTTP into a fresh
 * campaign, polls the import until it is done, then loads a fixed serial × 1,000,000.
 * The service runs in this process (embedded PostgreSQL in a temporary DATA_DIR, or
 * DATABASE_URL when set), so the peak RSS printed covers the HTTP upload, parsing and COPY.
 *
 *   npm run bench:import [-- --rows 1000000]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { MAX_CSV_BYTES } from '../src/coupons/serial-import.ts';
import { benchCampaign, benchDir, knob, startBenchService, type BenchService } from './support/bench.ts';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = knob('--rows', 1_000_000, rowsArg > 0 ? process.argv[rowsArg + 1] ?? 'nothing' : undefined);

const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
const peakRssMiB = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);

async function writeCsv(file: string, rows: number): Promise<number> {
  const out = fs.createWriteStream(file);
  out.write('serial\n');
  const width = String(rows).length;
  let batch = '';
  for (let i = 1; i <= rows; i++) {
    // "SN" + 7 digits + "\n" = 10 bytes a row: a million rows make a file just under 10 MiB.
    batch += `SN${String(i).padStart(Math.max(7, width), '0')}\n`;
    if (batch.length >= 1 << 16) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
  return (await fs.promises.stat(file)).size;
}

async function main(): Promise<void> {
  const dir = benchDir('import');
  let service: BenchService | null = null;
  try {
    // No flows: the bench measures the import alone.
    service = await startBenchService(dir, {
      env: { DATABASE_URL: process.env.DATABASE_URL },
      workers: true,
      logLevel: process.env.LOG_LEVEL ?? 'warn',
    });
    console.log(`database: ${service.config.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${dir.dir}`}`);
    const auth = service.admin;
    const campaign = (name: string) => benchCampaign(service!.ctx, {
      name,
      slug: `bench-${name.toLowerCase().replace(/\W+/g, '-')}-${crypto.randomBytes(3).toString('hex')}`,
      barcode: 'code128',
    });

    const csvFile = path.join(dir.dir, 'serials.csv');
    const bytes = await writeCsv(csvFile, ROWS);
    console.log(`CSV pack: ${ROWS.toLocaleString('en')} rows, ${bytes.toLocaleString('en')} bytes (${mib(bytes)} MiB; limit ${mib(MAX_CSV_BYTES)} MiB)`);
    if (bytes >= MAX_CSV_BYTES) throw new Error('the generated file is not under the 10 MB limit');

    const packCampaign = await campaign('Bench pack');
    const form = new FormData();
    form.append('file', await fs.openAsBlob(csvFile, { type: 'text/csv' }), 'serials.csv');
    const rssBefore = peakRssMiB();
    console.log(`peak RSS before the upload (service started, file written): ${rssBefore} MiB`);
    const started = performance.now();
    const res = await fetch(`${service.url}/api/v1/campaigns/${packCampaign.id}/serials`, { method: 'POST', headers: auth, body: form });
    const uploaded = performance.now();
    console.log(`peak RSS after the upload answered: ${peakRssMiB()} MiB`);
    let result: { status: string; read?: number; loaded: number; rejectedCount?: number; error?: string };
    let polls = 0;
    if (res.status === 202) {
      const location = res.headers.get('location')!;
      for (;;) {
        const poll = await fetch(`${service.url}${location}`, { headers: auth });
        result = await poll.json() as typeof result;
        polls++;
        if (result.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } else if (res.status === 200) {
      result = { status: 'done', ...(await res.json() as { loaded: number }) };
    } else {
      throw new Error(`upload answered ${res.status}: ${await res.text()}`);
    }
    const done = performance.now();
    if (result.status !== 'done') throw new Error(`import ${result.status}: ${result.error ?? ''}`);
    console.log(`upload answered ${res.status} after ${((uploaded - started) / 1000).toFixed(2)} s`);
    console.log(`CSV pack done: ${result.loaded.toLocaleString('en')} loaded, ${result.rejectedCount ?? 0} rejected, `
      + `${((done - started) / 1000).toFixed(2)} s from upload start to done (${polls} polls)`);
    console.log(`peak RSS after the pack: ${peakRssMiB()} MiB`);

    const fixedCampaign = await campaign('Bench fixed');
    const fixedStart = performance.now();
    const fixed = await fetch(`${service.url}/api/v1/campaigns/${fixedCampaign.id}/serials`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ fixed: { code: 'FNA@5841', quantity: 1_000_000 } }),
    });
    const fixedBody = await fixed.json() as { loaded: number; stock: { total: number } };
    if (fixed.status !== 200) throw new Error(`fixed serial answered ${fixed.status}: ${JSON.stringify(fixedBody)}`);
    console.log(`fixed serial × ${fixedBody.loaded.toLocaleString('en')}: ${(performance.now() - fixedStart).toFixed(1)} ms (stock ${fixedBody.stock.total.toLocaleString('en')})`);
    console.log(`peak RSS: ${peakRssMiB()} MiB`);
  } finally {
    await service?.stop();
    dir.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
