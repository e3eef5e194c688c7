// engine/log.ts (pino): one JSON object per line on stderr, with level names, the component, errors serialized with
// their message and stack wherever they sit among the fields, lines below the level left out, and child fields.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const logModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../engine/log.js')).href;

function linesOf(level: string, script: string): Record<string, any>[] {
  const code = `import { createLogger } from ${JSON.stringify(logModule)}; const log = createLogger('unit', ${JSON.stringify(level)}); ${script}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return r.stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('logs (pino)', () => {
  it('writes JSON lines with level names, component, message and fields; errors keep message and stack', () => {
    const lines = linesOf('info', `log.debug('hidden'); log.info('hello', { a: 1 }); log.warn('failed', { err: new Error('boom'), cause: new TypeError('bad') }); log.child({ requestId: 'r-1' }).error('child', { b: 2 });`);
    expect(lines.map((l) => l.msg)).to.deep.equal(['hello', 'failed', 'child']);
    expect(lines[0]).to.include({ level: 'info', component: 'unit', a: 1 });
    expect(Number.isNaN(Date.parse(lines[0].time))).to.equal(false);
    expect(lines[1].err).to.include({ type: 'Error', message: 'boom' });
    expect(lines[1].err.stack).to.match(/^Error: boom/);
    expect(lines[1].cause).to.include({ type: 'TypeError', message: 'bad' });
    expect(lines[2]).to.include({ level: 'error', requestId: 'r-1', b: 2 });
  });

  it('writes nothing at silent, and says which levels are on', () => {
    expect(linesOf('silent', `log.error('x'); if (log.enabled('error')) log.error('y');`)).to.deep.equal([]);
    expect(linesOf('debug', `if (log.enabled('debug')) log.debug('on');`).map((l) => l.level)).to.deep.equal(['debug']);
  });
});
