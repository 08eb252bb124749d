import { statusLabel } from '../i18n';

export type Tone = 'ok' | 'busy' | 'warn' | 'bad' | 'off' | 'held';

/** The colour family of an OCPP connector status (1.6 and 2.0.1 words) or a command state. */
export function toneOf(status: string): Tone {
  switch (status) {
    case 'Available':
    case 'Accepted':
    case 'Answered':
    case 'completed':
      return 'ok';
    case 'Charging':
    case 'Occupied':
    case 'active':
    case 'Sent':
      return 'busy';
    case 'Preparing':
    case 'SuspendedEV':
    case 'SuspendedEVSE':
    case 'Finishing':
    case 'Queued':
    case 'Submitted':
    case 'Pending':
      return 'warn';
    case 'Faulted':
    case 'Refused':
    case 'Failed':
    case 'Rejected':
    case 'Blocked':
    case 'Invalid':
    case 'Expired':
      return 'bad';
    case 'Reserved':
      return 'held';
    default:
      return 'off';
  }
}

export function StatusPill({ status, label }: { status: string; label?: string }) {
  return <span className={`pill tone-${toneOf(status)}`}>{label ?? statusLabel(status)}</span>;
}
