// The OpenAPI document and the code stay in step: every route the app serves is documented, and every
// documented route is served.
import { expect } from 'chai';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

function servedRoutes(stack: Layer[], out: Set<string> = new Set()): Set<string> {
  for (const l of stack) {
    if (l.route) {
      for (const m of Object.keys(l.route.methods)) out.add(`${m.toUpperCase()} ${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
    } else if (l.handle?.stack) servedRoutes(l.handle.stack, out);
  }
  return out;
}

describe('OpenAPI document', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('documents exactly the routes the app serves', async () => {
    const r = await stack.admin.as(undefined).get('/openapi.json');
    expect(r.status).to.equal(200);
    expect(r.body.openapi).to.match(/^3\./);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(r.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = servedRoutes((stack.api.app as unknown as { router: { stack: Layer[] } }).router.stack);
    served.delete('GET /openapi.json');
    expect([...served].filter((x) => !documented.has(x)), 'served but not documented').to.deep.equal([]);
    expect([...documented].filter((x) => !served.has(x)), 'documented but not served').to.deep.equal([]);
  });

  it('describes request bodies with the schemas the API validates with', async () => {
    const r = await stack.admin.as(undefined).get('/openapi.json');
    const body = r.body.paths['/v1/reservations'].post.requestBody.content['application/json'].schema;
    expect(body.required).to.include.members(['reservationId', 'hotelId', 'roomTypeId', 'checkIn', 'checkOut', 'guest']);
    expect(body.additionalProperties).to.equal(false);
    expect(body.properties.roomCount.maximum).to.equal(10);
  });
});
