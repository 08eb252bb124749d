import type { SessionView } from './data';

const CSV_COLUMNS: (keyof SessionView)[] = [
  'stationId',
  'transactionId',
  'state',
  'evse',
  'connector',
  'idToken',
  'startedAt',
  'stoppedAt',
  'energyWh',
  'stopReason',
];

/** RFC 4180 CSV; a leading = + - @ is quoted away so spreadsheets do not run it as a formula. */
export function toCsv(sessions: SessionView[]): string {
  const cell = (value: unknown) => {
    let text = value == null ? '' : String(value);
    if (/^[=+\-@]/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [CSV_COLUMNS.join(','), ...sessions.map((s) => CSV_COLUMNS.map((c) => cell(s[c])).join(','))].join('\r\n') + '\r\n';
}
