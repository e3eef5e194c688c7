// A store that cannot be reached is a 503 with Retry-After in the contract's format, never a 500: the request was
// fine, and every write can be sent again (idempotent on its key).
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';

describe('unreachable stores', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('answers 503 unavailable with Retry-After when the API cannot reach Redis', async () => {
    // The API's own Redis connection goes away (a real client, really closed); the shard databases still answer.
    stack.api.ctx.redis.disconnect();
    const r = await stack.admin.get(`/v1/reservations/${randomUUID()}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(503);
    expect(r.body.error.code).to.equal('unavailable');
    expect(r.headers.get('retry-after')).to.equal('1');
  });
});
