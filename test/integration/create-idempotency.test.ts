// Regression (issue 13, item 8): retried creates duplicated. A hotel or room-type create that came back late
// answered 503, and its retry created a second one, because the server drew a fresh id for every request. With an
// Idempotency-Key, every retry sends the same create (the id is derived from the key), so there is one.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createLogger } from '../../engine/log.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import type { TestEnv } from '../support/env.js';
import { createKey } from '../support/fixtures.js';
import type { HttpClient } from '../support/http.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';

describe('Idempotency-Key on hotel and room-type creates', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let admin: HttpClient;

  before(async () => ({ env, stack } = await openStack({ REPLY_TIMEOUT_MS: '1500' })));
  after(() => closeStack(stack, env));

  const hotelBody = (name: string) => ({ name, city: 'Nantes', country: 'FR', timezone: 'UTC', currency: 'EUR' });
  const hotelsNamed = async (name: string) =>
    ((await admin.get('/v1/hotels?city=Nantes&limit=200')).body.items as { id: string; name: string }[]).filter((h) => h.name === name);

  it('a create that came back late (503) and is sent again with the same key makes one hotel and one room type', async () => {
    admin = stack.admin;
    // No owner: the creates stay queued and come back late.
    await stack.owner.stop();
    const name = `Late ${randomUUID()}`;
    const key = { 'Idempotency-Key': `create-${randomUUID()}` };
    for (let i = 0; i < 2; i++) {
      const late = await admin.post('/v1/hotels', hotelBody(name), key);
      expect(late.status, JSON.stringify(late.body)).to.equal(503);
    }
    stack.owner = new ShardOwner(env.config, createLogger('worker', 'silent'));
    await stack.owner.start();
    let made: any;
    await waitFor('the create to be answered', async () => {
      made = await admin.post('/v1/hotels', hotelBody(name), key);
      return made.status !== 503;
    });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    expect(made.headers.get('location')).to.equal(`/v1/hotels/${made.body.id}`);
    expect(made.body.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await hotelsNamed(name)).map((h) => h.id)).to.deep.equal([made.body.id]);

    const hotelId = made.body.id as string;
    const rtBody = { name: 'Twin', maxGuests: 2, totalInventory: 5, baseRate: 9000 };
    const rtKey = { 'Idempotency-Key': `rt-${randomUUID()}` };
    const first = await admin.post(`/v1/hotels/${hotelId}/room-types`, rtBody, rtKey);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const again = await admin.post(`/v1/hotels/${hotelId}/room-types`, rtBody, rtKey);
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
    expect(again.body).to.deep.equal(first.body);
    const types = await admin.get(`/v1/hotels/${hotelId}/room-types`);
    expect(types.body.items.map((t: { id: string }) => t.id)).to.deep.equal([first.body.id]);
  });

  it('the same key with the same body answers the same hotel; with another body 422 idempotency_mismatch, and nothing is made', async () => {
    const name = `Keyed ${randomUUID()}`;
    const key = { 'Idempotency-Key': randomUUID() };
    const a = await admin.post('/v1/hotels', hotelBody(name), key);
    const b = await admin.post('/v1/hotels', hotelBody(name), key);
    expect([a.status, b.status]).to.deep.equal([201, 201]);
    expect(b.body).to.deep.equal(a.body);
    const other = await admin.post('/v1/hotels', hotelBody(`${name} (other)`), key);
    expect(other.status, JSON.stringify(other.body)).to.equal(422);
    expect(other.body.error.code).to.equal('idempotency_mismatch');
    expect(await hotelsNamed(`${name} (other)`)).to.deep.equal([]);
    // The same key for a room type of another hotel is another body too.
    const rt = { name: 'Single', maxGuests: 1, totalInventory: 1, baseRate: 5000 };
    expect((await admin.post(`/v1/hotels/${a.body.id}/room-types`, rt, key)).status).to.equal(201);
    const elsewhere = await admin.post(`/v1/hotels/${randomUUID()}/room-types`, rt, key);
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).to.equal(422);
  });

  it('keys are per principal, and creates without a key make a new one each time', async () => {
    const name = `Per principal ${randomUUID()}`;
    const key = { 'Idempotency-Key': 'shared-key' };
    const otherAdmin = admin.as(await createKey(admin, 'admin'));
    const a = await admin.post('/v1/hotels', hotelBody(name), key);
    const b = await otherAdmin.post('/v1/hotels', hotelBody(name), key);
    expect(a.status).to.equal(201);
    expect(b.status).to.equal(201);
    expect(b.body.id).to.not.equal(a.body.id);
    const plain = `Unkeyed ${randomUUID()}`;
    expect((await admin.post('/v1/hotels', hotelBody(plain))).status).to.equal(201);
    expect((await admin.post('/v1/hotels', hotelBody(plain))).status).to.equal(201);
    expect(await hotelsNamed(plain)).to.have.length(2);
    const tooLong = await admin.post('/v1/hotels', hotelBody(plain), { 'Idempotency-Key': 'k'.repeat(201) });
    expect(tooLong.status).to.equal(400);
  });
});
