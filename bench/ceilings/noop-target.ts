// The no-op Express (and node:http) ceiling as a benchmark target of the hot scenario: no database, no state; its catalog is made
// of random ids so that the hot scenario can generate exactly the same kind of bodies as for every other target.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServerProcess, type ServerProcess } from '../child-process.js';
import { tomorrowUtc } from '../seed-baseline.js';
import type { Scenario } from '../scenarios.js';
import type { Target, TargetEndpoint } from '../target.js';

const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'noop-express.js');

/** The no-op Express ceiling, or with `plain` the no-op node:http one (see noop-express.ts). */
export function noopExpressTarget(options: { echo?: boolean; plain?: boolean } = {}): Target {
  let server: ServerProcess | undefined;
  const name = options.plain ? 'no-op node:http' : 'no-op express';
  const target: Target = {
    name,
    scenarios: ['hot'],
    async start(scenario: Scenario): Promise<TargetEndpoint> {
      const port = await freePort();
      server = await startServerProcess({
        name,
        args: [serverScript, '--port', String(port), ...(options.plain ? ['--plain'] : [])],
        healthUrl: `http://127.0.0.1:${port}/healthz`,
        echo: options.echo,
      });
      const s = scenario.shape;
      const roomTypes = Array.from({ length: s.hotels * s.roomTypesPerHotel }, () => ({
        hotelId: randomUUID(),
        roomTypeId: randomUUID(),
        sellableLimit: 0,
      }));
      return { baseUrl: `http://127.0.0.1:${port}`, catalog: { firstNight: tomorrowUtc(), windowNights: s.windowNights, roomTypes } };
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await s.stop();
    },
    // Nothing is stored, so nothing can be oversold.
    databaseUrlsForOversoldCheck: () => [],
  };
  return target;
}
