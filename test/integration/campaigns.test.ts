import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { campaignBody } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

describe('campaigns API', () => {
  it('creates, reads, lists and updates a campaign with every setting', async () => {
    const body = campaignBody({
      name: 'Birthday treat', slug: 'birthday-treat', expiry: { mode: 'fromRedeem', hours: 48 },
      redeemBy: '2027-06-30T00:00:00Z', perContactLimit: 2, barcode: 'code128',
      colors: { background: '#FFEEDD', button: '#112233', buttonText: '#ffffff' },
      reward: { type: 'amount', value: 100, currency: 'TWD', minSpend: 500 }, visibility: 'private', verification: true,
    });
    const created = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(body);
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/campaigns/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'Birthday treat', slug: 'birthday-treat', expiry: { mode: 'fromRedeem', hours: 48 }, redeemBy: '2027-06-30T00:00:00.000Z',
      perContactLimit: 2, barcode: 'code128', colors: { background: '#ffeedd', button: '#112233', buttonText: '#ffffff' },
      reward: { type: 'amount', value: 100, currency: 'TWD', minSpend: 500 }, visibility: 'private', verification: true,
      imageUrl: null, stock: { kind: 'none', total: 0, left: 0, soldOut: true },
    });
    expect(created.body.id).toMatch(/^cmp_/);

    const read = await request(svc.url).get(`/api/v1/campaigns/${created.body.id}`).set(svc.admin);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const patched = await request(svc.url).patch(`/api/v1/campaigns/${created.body.id}`).set(svc.admin)
      .send({ name: 'Birthday treat 2', reward: { type: 'gift', text: 'Free cake' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Birthday treat 2', reward: { type: 'gift', text: 'Free cake' }, perContactLimit: 2 });

    const list = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(list.status).toBe(200);
    expect(list.body.campaigns.map((c: { id: string }) => c.id)).toContain(created.body.id);
  });

  it('derives the slug from the name and refuses a slug already taken', async () => {
    const a = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Summer Sale!' }));
    expect(a.status).toBe(201);
    expect(a.body.slug).toBe('summer-sale');
    const b = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Other', slug: 'summer-sale' }));
    expect(b.status).toBe(409);
    expect(b.body.error.code).toBe('slug_taken');
  });

  it.each([
    [{ name: 'x'.repeat(51) }, 'name'],
    [{ name: '' }, 'name'],
    [{ sendEnd: '2020-01-01T00:00:00Z' }, 'sendEnd'],
    [{ sendStart: 'tomorrow' }, 'sendStart'],
    [{ expiry: { mode: 'fromSend' } }, 'expiry'],
    [{ expiry: { mode: 'fromSend', days: 1, hours: 2 } }, 'expiry'],
    [{ expiry: { mode: 'later', days: 1 } }, 'expiry.mode'],
    [{ redeemBy: '2027-01-01T00:00:00Z' }, 'redeemBy'],
    [{ perContactLimit: 0 }, 'perContactLimit'],
    [{ barcode: 'ean13' }, 'barcode'],
    [{ colors: { background: 'red', button: '#000000', buttonText: '#ffffff' } }, 'colors.background'],
    [{ reward: { type: 'percent', value: 100 } }, 'reward.value'],
    [{ reward: { type: 'percent', value: 0 } }, 'reward.value'],
    [{ reward: { type: 'amount', value: 100 } }, 'reward.currency'],
    [{ reward: { type: 'gift', text: '' } }, 'reward.text'],
    [{ reward: { type: 'bogus' } }, 'reward.type'],
    [{ visibility: 'private', reward: { type: 'percent', value: 4 } }, 'reward.value'],
    [{ visibility: 'secret' }, 'visibility'],
    [{ verification: 'yes' }, 'verification'],
    [{ slug: 'Not A Slug' }, 'slug'],
    [{ unknownField: 1 }, 'unknownField'],
  ])('refuses %j naming the field %s, and saves nothing', async (override, field) => {
    const before = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    const res = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody(override));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    const after = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(after.body.campaigns.length).toBe(before.body.campaigns.length);
  });

  it('words every refusal for a person, never in the validator\'s terms', async () => {
    const { name: _name, reward: _reward, ...noName } = campaignBody();
    const res = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send({
      ...noName, reward: { type: 'percent', value: '10' }, barcode: 'ean13', perContactLimit: 1.5, verification: 'yes', colour: '#fff',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual(expect.arrayContaining([
      { field: 'name', message: 'is required' },
      { field: 'reward.value', message: 'must be a number' },
      { field: 'barcode', message: 'must be one of: qr, code39, code128' },
      { field: 'perContactLimit', message: 'must be a whole number' },
      { field: 'verification', message: 'must be true or false' },
      { field: 'colour', message: 'is not a field we know' },
    ]));
    expect(res.body.error.message).not.toMatch(/Invalid|expected|received|Unrecognized|>=/);
    const missing = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ reward: { type: 'amount', currency: 'JPY' } }));
    expect(missing.body.error.message).toBe('reward.value: is required');
  });

  it('validates a patch against the whole campaign and leaves it unchanged when refused', async () => {
    const c = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Patch me' }));
    const res = await request(svc.url).patch(`/api/v1/campaigns/${c.body.id}`).set(svc.admin)
      .send({ name: 'Renamed', sendEnd: '2000-01-01T00:00:00Z' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/sendEnd: must be after sendStart/);
    const read = await request(svc.url).get(`/api/v1/campaigns/${c.body.id}`).set(svc.admin);
    expect(read.body.name).toBe('Patch me');
  });

  it('creating the campaign a flow names loads that flow at once', async () => {
    const loaded = async () => {
      const res = await request(svc.url).get('/api/v1/flows').set(svc.admin);
      return res.body.flows.find((f: { id: string }) => f.id === 'welcome')?.loaded ?? false;
    };
    expect(await loaded()).toBe(false); // flows/welcome.yaml names welcome-10, which does not exist yet
    const res = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Welcome', slug: 'welcome-10' }));
    expect(res.status).toBe(201);
    expect(await loaded()).toBe(true);
  });

  it('answers malformed JSON with 400 and an unknown campaign with 404', async () => {
    const bad = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).set('Content-Type', 'application/json').send('{"name":');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
    const missing = await request(svc.url).get('/api/v1/campaigns/cmp_nope').set(svc.admin);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('a patch to a slug already taken is refused by name and changes nothing', async () => {
    const a = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Taken', slug: 'taken-slug' }));
    const b = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Mover', slug: 'mover-slug' }));
    expect(a.status).toBe(201);
    const res = await request(svc.url).patch(`/api/v1/campaigns/${b.body.id}`).set(svc.admin).send({ slug: 'taken-slug', name: 'Moved' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'slug_taken', message: 'slug: "taken-slug" is already used by another campaign' });
    const read = await request(svc.url).get(`/api/v1/campaigns/${b.body.id}`).set(svc.admin);
    expect(read.body).toMatchObject({ slug: 'mover-slug', name: 'Mover' });
  });

  it('refuses a NUL character in a path, a query or a body with 400, never a 500', async () => {
    const c = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Nul', slug: 'nul-check' }));
    const sent = [
      request(svc.url).get('/api/v1/campaigns/%00').set(svc.admin),
      request(svc.url).get('/api/v1/campaigns/%00/records').set(svc.admin),
      request(svc.url).get('/api/v1/imports/%00').set(svc.admin),
      request(svc.url).patch(`/api/v1/campaigns/${c.body.id}`).set(svc.admin).send({ name: 'a\u0000b' }),
      request(svc.url).post(`/api/v1/campaigns/${c.body.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: '\u0000' }),
      request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: '\u0000' }),
      request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: '\u0000', campaignId: c.body.id }),
      request(svc.url).get('/api/v1/workbench/coupons?conversationId=%00').set(svc.admin),
    ];
    for (const res of await Promise.all(sent)) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
      expect(res.body.error.message).toContain('NUL');
    }
    const read = await request(svc.url).get(`/api/v1/campaigns/${c.body.id}`).set(svc.admin);
    expect(read.body.name).toBe('Nul');
  });

  describe('security', () => {
    it.each([
      ['get', '/api/v1/campaigns'],
      ['post', '/api/v1/campaigns'],
      ['get', '/api/v1/campaigns/cmp_x'],
      ['patch', '/api/v1/campaigns/cmp_x'],
      ['post', '/api/v1/campaigns/cmp_x/coupons'],
      ['get', '/api/v1/campaigns/cmp_x/records'],
      ['get', '/api/v1/campaigns/cmp_x/stats'],
      ['get', '/api/v1/workbench/coupons'],
      ['post', '/api/v1/workbench/send'],
      ['post', '/api/v1/campaigns/cmp_x/serials'],
      ['put', '/api/v1/campaigns/cmp_x/image'],
      ['get', '/api/v1/imports/imp_x'],
      ['get', '/api/v1/flows'],
      ['post', '/api/v1/flows/reload'],
      ['post', '/api/v1/conversations/cnv_x/release'],
    ] as const)('%s %s: 401 without or with a wrong token, 403 for the POS token', async (method, path) => {
      const none = await request(svc.url)[method](path);
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('unauthorized');
      const wrong = await request(svc.url)[method](path).set('Authorization', 'Bearer wrong-token-xxxxxxxxxxxx');
      expect(wrong.status).toBe(401);
      const pos = await request(svc.url)[method](path).set(svc.pos);
      expect(pos.status).toBe(403);
      expect(pos.body.error.code).toBe('forbidden');
    });

    it('the POS token verifies coupons and nothing else; without POS_TOKEN the verification API takes only the admin token', async () => {
      const pos = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: 'cpn_nope' });
      expect(pos.status).toBe(404); // allowed through, the coupon does not exist
      const noPos = await startTestService({ env: { POS_TOKEN: undefined } });
      try {
        const refused = await request(noPos.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: 'cpn_nope' });
        expect(refused.status).toBe(401);
        const byAdmin = await request(noPos.url).post('/api/v1/verifications').set(noPos.admin).send({ couponId: 'cpn_nope' });
        expect(byAdmin.status).toBe(404);
      } finally {
        await noPos.stop();
      }
    });
  });
});
