import { useId } from 'react';

export interface Point {
  /** ms since the epoch */
  x: number;
  y: number;
}

/** Round axis maximum: 1, 2 or 5 times a power of ten at or above `value`. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

const W = 640;
const H = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

/**
 * A line over time (power while charging). Labelled for screen readers by `label` and a
 * summary; `data-points` tells tests how many readings it draws.
 */
export function LineChart({
  points,
  label,
  summary,
  formatY,
  formatX,
  empty,
}: {
  points: Point[];
  label: string;
  summary: string;
  formatY: (y: number) => string;
  formatX: (x: number) => string;
  empty: string;
}) {
  const gradient = useId().replace(/:/g, '');
  if (points.length < 2) {
    return (
      <div className="chart-empty" data-points={points.length} role="img" aria-label={`${label}: ${empty}`}>
        {empty}
      </div>
    );
  }
  const xs = points.map((p) => p.x);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const yMax = niceMax(Math.max(...points.map((p) => p.y)));
  const sx = (x: number) => PAD.left + ((x - x0) / Math.max(1, x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
  const area = `${line}L${sx(x1).toFixed(1)},${sy(0)}L${sx(x0).toFixed(1)},${sy(0)}Z`;
  const ticks = [0, 0.5, 1].map((f) => f * yMax);
  const xTicks = [x0, (x0 + x1) / 2, x1];
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}. ${summary}`} data-points={points.length}>
        <defs>
          <linearGradient id={gradient} x1="0" x2="0" y1="0" y2="1">
            <stop offset="0%" stopColor="#0b7a5c" stopOpacity="0.28" />
            <stop offset="100%" stopColor="#0b7a5c" stopOpacity="0.02" />
          </linearGradient>
        </defs>
        {ticks.map((y) => (
          <g key={y}>
            <line className="grid-line" x1={PAD.left} x2={W - PAD.right} y1={sy(y)} y2={sy(y)} />
            <text x={PAD.left - 8} y={sy(y) + 4} textAnchor="end">
              {formatY(y)}
            </text>
          </g>
        ))}
        {xTicks.map((x, i) => (
          <text key={i} x={sx(x)} y={H - 8} textAnchor={i === 0 ? 'start' : i === 2 ? 'end' : 'middle'}>
            {formatX(x)}
          </text>
        ))}
        <path d={area} fill={`url(#${gradient})`} />
        <path className="line" d={line} />
        <circle cx={sx(points[points.length - 1].x)} cy={sy(points[points.length - 1].y)} r={5} fill="#0b7a5c" stroke="#fff" strokeWidth={2} />
      </svg>
    </figure>
  );
}

export interface Bar {
  label: string;
  value: number;
  highlight?: boolean;
}

/** Bars by category (energy per day); every bar's value is in its accessible label. */
export function BarChart({ bars, label, formatY }: { bars: Bar[]; label: string; formatY: (y: number) => string }) {
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const inner = W - PAD.left - PAD.right;
  const slot = inner / Math.max(1, bars.length);
  const bw = Math.min(48, slot * 0.62);
  const sy = (y: number) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}. ${bars.map((b) => `${b.label}: ${formatY(b.value)}`).join(', ')}`}>
      {[0, 0.5, 1].map((f) => (
        <g key={f}>
          <line className="grid-line" x1={PAD.left} x2={W - PAD.right} y1={sy(f * yMax)} y2={sy(f * yMax)} />
          <text x={PAD.left - 8} y={sy(f * yMax) + 4} textAnchor="end">
            {formatY(f * yMax)}
          </text>
        </g>
      ))}
      {bars.map((b, i) => {
        const x = PAD.left + slot * i + (slot - bw) / 2;
        const y = sy(b.value);
        return (
          <g key={b.label}>
            <rect className={`bar${b.highlight ? ' today' : ''}`} x={x} y={y} width={bw} height={Math.max(0, sy(0) - y)} rx={5} />
            <text x={x + bw / 2} y={H - 8} textAnchor="middle">
              {b.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
