// Loading a hotel: nights arrive from the database as runs of equal nights and are spread into the night table.
import { expect } from 'chai';
import { newNightTable } from '../../engine/core/night-table.js';
import { fillFromRuns } from '../../engine/store/shard-store.js';

describe('night runs (loading a hotel)', () => {
  const table = () => newNightTable(100, 110);

  it('one run fills every night', () => {
    const t = table();
    fillFromRuns(t, 0, 10, '0,5,6,0,9000');
    expect([...t.total]).to.deep.equal(Array(10).fill(5));
    expect([...t.limit]).to.deep.equal(Array(10).fill(6));
    expect([...t.reserved]).to.deep.equal(Array(10).fill(0));
    expect([...t.rate]).to.deep.equal(Array(10).fill(9000));
  });

  it('each run lasts until the next; the last until the n-th night', () => {
    const t = table();
    fillFromRuns(t, 0, 7, '0,5,6,0,100;2,5,6,3,100;3,5,6,0,120');
    expect([...t.reserved]).to.deep.equal([0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
    expect([...t.rate]).to.deep.equal([100, 100, 100, 120, 120, 120, 120, 0, 0, 0]);
  });

  it('nights before or after the table are skipped', () => {
    const t = table();
    // The first night is two days before the table's first day; 14 nights reach past its end.
    fillFromRuns(t, -2, 14, '0,1,1,1,1;3,2,2,2,2;13,3,3,3,3');
    expect([...t.total]).to.deep.equal([1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });
});
