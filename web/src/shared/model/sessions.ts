/** Charging sessions as the apps show them. */
import type { Schemas } from '../api/client';
import type { Point } from '../ui/charts';

export type SessionView = Schemas['SessionView'];
export type SessionDetail = Schemas['SessionDetail'];
type Sample = Schemas['SampleView'];

const POWER = 'Power.Active.Import';
const ENERGY = 'Energy.Active.Import.Register';

function inBase(sample: Sample): number {
  // kW and kWh readings come scaled; the API passes the unit through.
  return sample.unit === 'kW' || sample.unit === 'kWh' ? sample.value * 1000 : sample.value;
}

/**
 * Power over time (W): the station's power readings (the phases summed when it reports per
 * phase), or, when it reports only its energy register, the power between two readings.
 */
export function powerSeries(samples: Sample[]): Point[] {
  const power = new Map<number, number>();
  for (const s of samples) {
    if (s.measurand !== POWER) continue;
    const at = new Date(s.timestamp).getTime();
    const whole = !s.phase || s.phase === 'L1' || s.phase === 'L2' || s.phase === 'L3';
    if (!whole) continue;
    power.set(at, (s.phase ? power.get(at) ?? 0 : 0) + inBase(s));
  }
  if (power.size) return [...power].map(([x, y]) => ({ x, y })).sort((a, b) => a.x - b.x);
  const energy = samples
    .filter((s) => s.measurand === ENERGY && !s.phase)
    .map((s) => ({ x: new Date(s.timestamp).getTime(), y: inBase(s) }))
    .sort((a, b) => a.x - b.x);
  const points: Point[] = [];
  for (let i = 1; i < energy.length; i++) {
    const hours = (energy[i].x - energy[i - 1].x) / 3_600_000;
    if (hours > 0) points.push({ x: energy[i].x, y: Math.max(0, (energy[i].y - energy[i - 1].y) / hours) });
  }
  return points;
}

/** Seconds charged so far, or from start to stop. */
export function elapsedSeconds(session: SessionView, now = Date.now()): number | null {
  if (!session.startedAt) return null;
  const end = session.stoppedAt ? new Date(session.stoppedAt).getTime() : now;
  return (end - new Date(session.startedAt).getTime()) / 1000;
}
