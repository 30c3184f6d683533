import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { flowsDir } from './flow-support.ts';
import { freshDb } from '../support/db.ts';
import { flowCampaign } from './flow-support.ts';
import type { AppContext } from '../../src/context.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run flows:check [dir]` as an operator runs it (node with TypeScript, the script itself). */
function flowsCheck(dir: string, env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/flows-check.ts', dir], { cwd: path.resolve('.'), env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

let broken: string;
let db: Awaited<ReturnType<typeof freshDb>>;
beforeAll(async () => {
  broken = flowsDir({
    'a.yaml': 'id: a\ntrigger: { keyword: hi }\nsteps:\n  - say: hi\n  - goto: b\n',
    'b.yaml': 'id: b\ntrigger: { pattern: "(" }\nsteps:\n  - sya: hi\n',
    'c.yml': 'id: a\ntrigger: { follow: true }\nsteps:\n  - coupon: welcome-10\n',
  });
  db = await freshDb();
});
afterAll(async () => {
  fs.rmSync(broken, { recursive: true, force: true });
  await db?.close();
});

describe('npm run flows:check', () => {
  it('passes the shipped examples offline, saying slugs were not checked', async () => {
    const r = await flowsCheck('flows', {});
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('campaign slugs not checked: no DATABASE_URL\n6 file(s), 6 flow(s) valid, 0 error(s)\n');
    expect(r.code).toBe(0);
  });

  it('prints every error as file:line:column: message and exits 1', async () => {
    const r = await flowsCheck(broken, {});
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `${broken}/a.yaml:5:11: goto: there is no flow with id "b"`,
      `${broken}/b.yaml:2:21: pattern: the regex does not compile: Invalid regular expression: /(/iu: Unterminated group`,
      `${broken}/b.yaml:4:5: unknown step "sya": expected one of say, coupon, ask, if, wait, tag, untag, handoff, goto`,
      `${broken}/c.yml:1:5: id: "a" is already used by a flow in a.yaml`,
    ]);
  });

  it('checks campaign slugs against the database when it can reach it', async () => {
    const r = await flowsCheck('flows', { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    const masked = db.url.replace(/:[^:@/]+@/, ':***@');
    expect(r.stderr).toContain(`campaign slugs checked against ${masked.includes('***') ? masked : db.url}`);
    expect(r.stdout).toContain('flows/welcome.yaml:8:13: campaign "welcome-10" does not exist');
    for (const slug of ['welcome-10', 'birthday-gift', 'referral-50']) {
      await flowCampaign({ db: db.db, clock: () => new Date(), config: { DEFAULT_LOCALE: 'en', TZ_DEFAULT: 'UTC' } } as unknown as AppContext, slug);
    }
    const ok = await flowsCheck('flows', { DATABASE_URL: db.url });
    expect(ok.stdout).toBe('');
    expect(ok.code).toBe(0);
  });

  it('refuses a directory that does not exist', async () => {
    const r = await flowsCheck(`${broken}/no-such-dir`, {});
    expect(r.stdout).toBe(`${broken}/no-such-dir: no such directory\n`);
    expect(r.code).toBe(1);
  });

  it('says so when the database cannot be reached', async () => {
    const r = await flowsCheck('flows', { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.stderr).toMatch(/^campaign slugs not checked: could not connect to postgres:\/\/nobody@127\.0\.0\.1:1\/none \(.+\)\n/);
    expect(r.code).toBe(0);
  });
});
