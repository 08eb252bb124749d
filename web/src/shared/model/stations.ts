/** What the apps say about stations and connectors, derived from the API's views. */
import type { Schemas } from '../api/client';
import { t } from '../i18n';
import type { Tone } from '../ui/StatusPill';

export type StationView = Schemas['StationView'];
export type Connector = Schemas['ConnectorStatus'];

/** The connectors drivers plug into: 1.6's connector 0 is the station itself. */
export function plugs(station: { connectors: Connector[] }): Connector[] {
  return station.connectors.filter((c) => c.connectorId !== 0);
}

export function stationName(station: { stationId: string; site?: string | null }): string {
  return station.site ? station.site : station.stationId;
}

export function maxPower(station: { connectors: Connector[] }): number | null {
  const powers = plugs(station)
    .map((c) => c.maxPowerW)
    .filter((p): p is number => p != null);
  return powers.length ? Math.max(...powers) : null;
}

export function availableCount(station: { connectors: Connector[] }): number {
  return plugs(station).filter((c) => c.status === 'Available').length;
}

/** One colour for a whole station: what a driver most wants to know first. */
export function stationTone(station: { online: boolean; connectors: Connector[] }): Tone {
  if (!station.online) return 'off';
  const statuses = plugs(station).map((c) => c.status);
  if (statuses.includes('Available')) return 'ok';
  if (statuses.some((s) => ['Charging', 'Occupied', 'Preparing', 'SuspendedEV', 'SuspendedEVSE', 'Finishing'].includes(s)))
    return 'busy';
  if (statuses.includes('Reserved')) return 'held';
  if (statuses.includes('Faulted')) return 'bad';
  return 'off';
}

/** One colour for a whole station as its operator sees it: what needs attention first. */
export function operatorTone(station: { online: boolean; connectors: Connector[] }): Tone {
  if (!station.online) return 'off';
  const statuses = plugs(station).map((c) => c.status);
  if (statuses.includes('Faulted')) return 'bad';
  if (statuses.some((s) => ['Charging', 'Occupied', 'SuspendedEV', 'SuspendedEVSE'].includes(s))) return 'busy';
  if (statuses.includes('Available')) return 'ok';
  if (statuses.includes('Reserved')) return 'held';
  return 'warn';
}

export function availabilityText(station: { online: boolean; connectors: Connector[] }): string {
  if (!station.online) return t('status.Offline');
  const total = plugs(station).length;
  return t('find.availableOf', { available: availableCount(station), total });
}

export function connectorName(c: Connector): string {
  if (c.connectorId === 0) return t('common.wholeStation');
  return c.evseId != null ? t('common.evseConnector', { evse: c.evseId, n: c.connectorId }) : t('common.connectorN', { n: c.connectorId });
}

/** Plug families drivers filter by (OCPP 2.0.1 ConnectorEnumType words in each). */
export const PLUG_FAMILIES: Record<string, string[]> = {
  'Type 2': ['cType2', 'sType2'],
  CCS: ['cCCS1', 'cCCS2'],
  CHAdeMO: ['cG105'],
};

/** The word list operators choose from when they declare a connector. */
export const CONNECTOR_TYPES = [
  'cType2',
  'sType2',
  'cCCS2',
  'cCCS1',
  'cG105',
  'cType1',
  'cTesla',
  'sType3',
  'sCEE-7-7',
  's309-1P-16A',
  's309-1P-32A',
  's309-3P-16A',
  's309-3P-32A',
  'sBS1361',
  'Other1PhMax16A',
  'Other1PhOver16A',
  'Other3Ph',
  'Pan',
  'wInductive',
  'wResonant',
  'Undetermined',
  'Unknown',
] as const;
