import { expect } from 'chai';
import { dayStartMs, formatDay, isTimeZone, localDay, parseDay } from '../../engine/core/index.js';

describe('dates: parseDay / formatDay', () => {
  const known: Array<[string, number]> = [
    ['1970-01-01', 0],
    ['1970-01-02', 1],
    ['1969-12-31', -1],
    ['2000-02-29', 11_016],
    ['2027-01-10', 20_828],
    ['2028-02-29', 21_243],
  ];
  for (const [text, n] of known) {
    it(`${text} is day ${n} and formats back`, () => {
      expect(parseDay(text)).to.equal(n);
      expect(formatDay(n)).to.equal(text);
    });
  }

  it('round-trips every day of 2026–2029 (leap day included) and numbers them consecutively', () => {
    const first = parseDay('2026-01-01') as number;
    let count = 0;
    for (let d = first; formatDay(d) !== '2030-01-01'; d++) {
      const text = formatDay(d);
      expect(text).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(parseDay(text), text).to.equal(d);
      count++;
    }
    expect(count).to.equal(365 * 3 + 366);
    expect(formatDay(parseDay('2028-02-28')! + 1)).to.equal('2028-02-29');
    expect(formatDay(parseDay('2027-02-28')! + 1)).to.equal('2027-03-01');
    expect(formatDay(parseDay('2027-12-31')! + 1)).to.equal('2028-01-01');
  });

  const invalid = [
    '2027-02-29', // 2027 is not a leap year
    '2100-02-29', // nor is 2100
    '2027-02-30',
    '2027-04-31',
    '2027-13-01',
    '2027-00-10',
    '2027-01-00',
    '2027-01-32',
    '2027-1-10',
    '2027-01-1',
    '27-01-10',
    '10-01-2027',
    '2027/01/10',
    '2027-01-10T00:00:00Z',
    ' 2027-01-10',
    '2027-01-10 ',
    '',
    'tomorrow',
    '+2027-01-10',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => expect(parseDay(text)).to.equal(undefined));
  }

  it('accepts 2000-02-29 (divisible by 400) and 2024-02-29', () => {
    expect(parseDay('2000-02-29')).to.be.a('number');
    expect(parseDay('2024-02-29')).to.equal((parseDay('2024-02-28') as number) + 1);
  });
});

describe('dates: localDay', () => {
  const at = (iso: string) => Date.parse(iso);
  const rows: Array<{ instant: string; zone: string; day: string }> = [
    { instant: '2027-01-10T23:30:00Z', zone: 'UTC', day: '2027-01-10' },
    { instant: '2027-01-10T23:30:00Z', zone: 'Asia/Tokyo', day: '2027-01-11' },
    { instant: '2027-01-10T23:30:00Z', zone: 'America/New_York', day: '2027-01-10' },
    { instant: '2027-01-10T14:59:59Z', zone: 'Asia/Tokyo', day: '2027-01-10' }, // 23:59:59 JST
    { instant: '2027-01-10T15:00:00Z', zone: 'Asia/Tokyo', day: '2027-01-11' }, // midnight JST
    { instant: '2027-01-11T04:59:59Z', zone: 'America/New_York', day: '2027-01-10' }, // 23:59:59 EST
    { instant: '2027-01-11T05:00:00Z', zone: 'America/New_York', day: '2027-01-11' },
    { instant: '2027-07-11T03:59:59Z', zone: 'America/New_York', day: '2027-07-10' }, // EDT is UTC-4
    { instant: '2027-07-11T04:00:00Z', zone: 'America/New_York', day: '2027-07-11' },
    { instant: '2027-01-10T10:30:00Z', zone: 'Pacific/Kiritimati', day: '2027-01-11' }, // UTC+14
    { instant: '2027-01-10T10:59:00Z', zone: 'Pacific/Pago_Pago', day: '2027-01-09' }, // UTC-11
    { instant: '2027-01-10T18:29:00Z', zone: 'Asia/Kolkata', day: '2027-01-10' }, // UTC+5:30
    { instant: '2027-01-10T18:30:00Z', zone: 'Asia/Kolkata', day: '2027-01-11' },
    { instant: '2027-12-31T23:00:00Z', zone: 'Europe/Berlin', day: '2028-01-01' },
    { instant: '2028-02-29T12:00:00Z', zone: 'Australia/Sydney', day: '2028-02-29' },
  ];
  for (const { instant, zone, day } of rows) {
    it(`at ${instant} it is ${day} in ${zone}`, () => {
      expect(formatDay(localDay(at(instant), zone))).to.equal(day);
    });
  }

  it('returns whole day numbers that parseDay agrees with', () => {
    const d = localDay(at('2027-01-10T23:30:00Z'), 'Asia/Tokyo');
    expect(Number.isInteger(d)).to.equal(true);
    expect(d).to.equal(parseDay('2027-01-11'));
  });

  it('moves forward by exactly one at each local midnight over a year (hourly steps, New York)', () => {
    let prev = localDay(at('2027-01-01T00:00:00Z'), 'America/New_York');
    let changes = 0;
    for (let t = at('2027-01-01T01:00:00Z'); t <= at('2028-01-01T00:00:00Z'); t += 3_600_000) {
      const d = localDay(t, 'America/New_York');
      expect(d - prev, new Date(t).toISOString()).to.be.oneOf([0, 1]);
      if (d !== prev) changes++;
      prev = d;
    }
    expect(changes).to.equal(365);
  });
});

describe('dates: isTimeZone', () => {
  for (const zone of ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Lisbon', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
    it(`knows ${zone}`, () => expect(isTimeZone(zone)).to.equal(true));
  }
  for (const zone of ['', 'Mars/Olympus_Mons', 'Asia/Tokio', 'Not a zone', '+05:00', 'UTC+1', '../etc/passwd', 'Europe/']) {
    it(`rejects ${JSON.stringify(zone)}`, () => expect(isTimeZone(zone)).to.equal(false));
  }
});

describe('dates: dayStartMs', () => {
  // [day, zone, the instant it starts]: a plain midnight, midnights a clock change moves around, and days whose
  // midnight a change skips (they start at the change, 01:00 local).
  const table: Array<[string, string, string]> = [
    ['2027-01-10', 'UTC', '2027-01-10T00:00:00.000Z'],
    ['2027-01-10', 'Asia/Kolkata', '2027-01-09T18:30:00.000Z'],
    ['2027-03-28', 'Europe/London', '2027-03-28T00:00:00.000Z'],
    ['2027-03-29', 'Europe/London', '2027-03-28T23:00:00.000Z'],
    ['2027-11-07', 'America/New_York', '2027-11-07T04:00:00.000Z'],
    ['2027-11-08', 'America/New_York', '2027-11-08T05:00:00.000Z'],
    ['2027-10-03', 'Australia/Lord_Howe', '2027-10-02T13:30:00.000Z'],
    ['2027-09-05', 'America/Santiago', '2027-09-05T04:00:00.000Z'],
    ['2027-04-04', 'America/Santiago', '2027-04-04T04:00:00.000Z'],
    ['2027-03-14', 'America/Havana', '2027-03-14T05:00:00.000Z'],
  ];
  for (const [day, zone, start] of table) {
    it(`${day} starts at ${start} in ${zone}`, () => {
      const ms = dayStartMs(parseDay(day) as number, zone);
      expect(new Date(ms).toISOString()).to.equal(start);
      expect(formatDay(localDay(ms, zone))).to.equal(day);
      expect(formatDay(localDay(ms - 1000, zone))).to.not.equal(day);
    });
  }
});
