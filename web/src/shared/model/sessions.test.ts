import { describe, expect, it } from 'vitest';
import { niceMax } from '../ui/charts';
import { powerSeries } from './sessions';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();
const sample = (s: number, measurand: string, value: number, extra: object = {}) => ({
  timestamp: at(s),
  measurand,
  value,
  context: 'Sample.Periodic',
  ...extra,
});

describe('powerSeries', () => {
  it('takes the power readings, summing phases, in kW or W', () => {
    const points = powerSeries([
      sample(10, 'Power.Active.Import', 7.4, { unit: 'kW' }),
      sample(0, 'Power.Active.Import', 3000, { unit: 'W' }),
      sample(20, 'Power.Active.Import', 1000, { phase: 'L1' }),
      sample(20, 'Power.Active.Import', 1000, { phase: 'L2' }),
      sample(20, 'Power.Active.Import', 1000, { phase: 'L3' }),
      sample(20, 'Energy.Active.Import.Register', 500),
    ]);
    expect(points.map((p) => p.y)).toEqual([3000, 7400, 3000]);
  });

  it('derives power from the energy register when there is no power reading', () => {
    const points = powerSeries([
      sample(0, 'Energy.Active.Import.Register', 1000),
      sample(36, 'Energy.Active.Import.Register', 1110),
    ]);
    expect(points).toEqual([{ x: new Date(at(36)).getTime(), y: 11000 }]);
  });
});

describe('niceMax', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.7, 3, 7400, 11000, 150000].map(niceMax)).toEqual([1, 1, 5, 10000, 20000, 200000]);
  });
});
