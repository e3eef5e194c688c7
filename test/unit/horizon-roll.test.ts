// When a shard's owner makes the nights that entered the horizon (engine/limits.ts nextHorizonRollMs): just after
// every quarter hour of UTC, which is when any zone's local midnight can fall.
import { expect } from 'chai';
import { horizonRollAfterMs, horizonRollEveryMs, nextHorizonRollMs } from '../../engine/limits.js';

describe('horizon roll schedule', () => {
  const at = (iso: string) => Date.parse(iso);
  const table: Array<[string, string]> = [
    ['2027-01-10T00:00:00.000Z', '2027-01-10T00:00:02.000Z'],
    ['2027-01-10T00:00:01.999Z', '2027-01-10T00:00:02.000Z'],
    ['2027-01-10T00:00:02.000Z', '2027-01-10T00:15:02.000Z'],
    ['2027-01-10T09:44:59.000Z', '2027-01-10T09:45:02.000Z'],
    ['2027-01-10T23:59:59.000Z', '2027-01-11T00:00:02.000Z'],
  ];
  for (const [now, next] of table) {
    it(`at ${now} the next roll is at ${next}`, () => expect(new Date(nextHorizonRollMs(at(now))).toISOString()).to.equal(next));
  }

  it('follows every local midnight of every time zone this Node knows, in 2026 and 2027, within the delay', () => {
    // Each zone's offset from UTC is a whole number of quarter hours on every day (checked every 12 hours), so each
    // local midnight is a quarter hour of UTC, and the roll after it comes horizonRollAfterMs later.
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).to.be.greaterThan(300);
    const odd: string[] = [];
    for (const timeZone of zones) {
      const f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2028, 0, 1); t += 12 * 3_600_000) {
        const name = f.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? '';
        const m = /^GMT(?:[+-](\d\d):(\d\d))?$/.exec(name);
        if (!m || (m[2] !== undefined && Number(m[2]) % 15 !== 0)) {
          odd.push(`${timeZone} ${name}`);
          break;
        }
      }
    }
    expect(odd).to.deep.equal([]);
    expect(horizonRollEveryMs).to.equal(15 * 60_000);
    expect(horizonRollAfterMs).to.be.below(60_000);
  });
});
