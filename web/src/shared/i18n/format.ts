/** Dates, numbers, energy and money in the user's locale (the browser's languages). */

export const locale = (): string => (typeof navigator !== 'undefined' && navigator.languages?.[0]) || 'en';

const number = (maxFraction: number, minFraction = 0) =>
  new Intl.NumberFormat(locale(), { maximumFractionDigits: maxFraction, minimumFractionDigits: minFraction });

export function formatNumber(value: number, maxFraction = 0): string {
  return number(maxFraction).format(value);
}

/** Wh in kWh, one decimal below 100 kWh. */
export function formatEnergy(wh: number | null | undefined): string {
  if (wh == null) return '–';
  const kwh = wh / 1000;
  return `${number(kwh < 100 ? 1 : 0, kwh < 100 ? 1 : 0).format(kwh)} kWh`;
}

/** W in kW (one decimal below 100 kW). */
export function formatPower(w: number | null | undefined): string {
  if (w == null) return '–';
  const kw = w / 1000;
  return `${number(kw < 100 ? 1 : 0).format(kw)} kW`;
}

export function formatDistance(metres: number): string {
  return metres < 1000 ? `${number(0).format(Math.round(metres / 10) * 10)} m` : `${number(1).format(metres / 1000)} km`;
}

/** An amount in minor units (cents) of an ISO 4217 currency. */
export function formatMoney(minor: number | string, currency: string): string {
  const format = new Intl.NumberFormat(locale(), { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(Number(minor) / 10 ** digits);
}

/** A decimal amount as a string (exact on the wire, e.g. "0.35"), formatted in its currency. */
export function formatDecimalMoney(amount: string, currency: string): string {
  return new Intl.NumberFormat(locale(), { style: 'currency', currency, maximumFractionDigits: 4 }).format(Number(amount));
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatTime(iso: string | number | Date): string {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(new Date(iso));
}

export function formatDay(date: Date): string {
  return new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric' }).format(date);
}

/** 1 h 05 min, 12 min, 40 s. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const unit = (value: number, u: 'hour' | 'minute' | 'second') =>
    new Intl.NumberFormat(locale(), { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(value);
  if (h > 0) return `${unit(h, 'hour')} ${unit(m, 'minute')}`;
  if (m > 0) return unit(m, 'minute');
  return unit(s, 'second');
}

/** "3 minutes ago", "in 2 hours". */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(Math.round(seconds), 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}
