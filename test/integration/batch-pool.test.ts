// The batch worker-thread pool survives being destroyed at any moment of its threads' start. On Node 20 a thread
// terminated while require() instantiates an ES module aborts the whole process (a V8 fatal error, not an
// exception), and piscina loads its task with require() first: an API shut down right after it started could take
// its whole process down (seen once in CI, in the middle of the test suite). The pool's threads load the task with
// import() instead. Without that, this test aborts in roughly half of its runs (120 start/stop cycles, destroyed
// 10–150 ms after start, across the time a thread takes to load the task); with it, never.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const poolModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../api/batch-pool.js')).href;

const script = `
import { createBatchPool } from ${JSON.stringify(poolModule)};
const body = JSON.stringify({ items: [{ reservationId: '3f79dafe-25be-4e63-8b7c-69d2a973ecb1', hotelId: '3f79dafe-25be-4e63-8b7c-69d2a973ecb1',
  roomTypeId: '3f79dafe-25be-4e63-8b7c-69d2a973ecb1', checkIn: '2031-01-01', checkOut: '2031-01-02', guest: { name: 'a', email: 'a@example.com' } }] });
const first = createBatchPool();
const split = await first.run({ body, owner: { kind: 'partner', id: 'p' }, shardCount: 16 });
await first.destroy();
for (let i = 0; i < 120; i++) {
  const pool = createBatchPool();
  await new Promise((r) => setTimeout(r, 10 + ((i * 7) % 140)));
  await pool.destroy().catch(() => {});
}
console.log(JSON.stringify({ done: true, split: { ok: split.ok, total: split.total } }));
`;

describe('batch worker-thread pool', function () {
  this.timeout(120_000);

  it('splits a batch, and survives being destroyed while its threads start (120 times)', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(err, 'no fatal error').to.not.match(/FATAL ERROR/);
    expect(code, `exit code (stderr: ${err.slice(0, 300)})`).to.equal(0);
    expect(JSON.parse(out.trim().split('\n').pop() as string)).to.deep.equal({ done: true, split: { ok: true, total: 1 } });
  });
});
