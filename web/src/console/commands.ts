/**
 * The commands operators send most, written in the version the station speaks (OCPP 1.6 and
 * 2.0.1 name and shape them differently). The payload stays editable: the API checks it against
 * the action's schema before it is queued.
 */
export type Protocol = 'ocpp1.6' | 'ocpp2.0.1';

export interface Preset {
  key: 'reset' | 'unlock' | 'availability' | 'trigger' | 'getConfig' | 'setConfig' | 'custom';
  action: Record<Protocol, string>;
  payload: Record<Protocol, unknown>;
}

export const PRESETS: Preset[] = [
  {
    key: 'reset',
    action: { 'ocpp1.6': 'Reset', 'ocpp2.0.1': 'Reset' },
    payload: { 'ocpp1.6': { type: 'Soft' }, 'ocpp2.0.1': { type: 'Immediate' } },
  },
  {
    key: 'unlock',
    action: { 'ocpp1.6': 'UnlockConnector', 'ocpp2.0.1': 'UnlockConnector' },
    payload: { 'ocpp1.6': { connectorId: 1 }, 'ocpp2.0.1': { evseId: 1, connectorId: 1 } },
  },
  {
    key: 'availability',
    action: { 'ocpp1.6': 'ChangeAvailability', 'ocpp2.0.1': 'ChangeAvailability' },
    payload: {
      'ocpp1.6': { connectorId: 0, type: 'Inoperative' },
      'ocpp2.0.1': { operationalStatus: 'Inoperative' },
    },
  },
  {
    key: 'trigger',
    action: { 'ocpp1.6': 'TriggerMessage', 'ocpp2.0.1': 'TriggerMessage' },
    payload: {
      'ocpp1.6': { requestedMessage: 'StatusNotification' },
      'ocpp2.0.1': { requestedMessage: 'StatusNotification' },
    },
  },
  {
    key: 'getConfig',
    action: { 'ocpp1.6': 'GetConfiguration', 'ocpp2.0.1': 'GetVariables' },
    payload: {
      'ocpp1.6': {},
      'ocpp2.0.1': { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
    },
  },
  {
    key: 'setConfig',
    action: { 'ocpp1.6': 'ChangeConfiguration', 'ocpp2.0.1': 'SetVariables' },
    payload: {
      'ocpp1.6': { key: 'HeartbeatInterval', value: '300' },
      'ocpp2.0.1': {
        setVariableData: [{ attributeValue: '300', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }],
      },
    },
  },
  {
    key: 'custom',
    action: { 'ocpp1.6': '', 'ocpp2.0.1': '' },
    payload: { 'ocpp1.6': {}, 'ocpp2.0.1': {} },
  },
];

/** The version commands are written in: the live connection's, else the only one allowed. */
export function commandProtocol(station: { connection?: { protocol: string } | null; protocols: string[] }): Protocol {
  const p = station.connection?.protocol ?? station.protocols[0] ?? 'ocpp1.6';
  return p === 'ocpp2.0.1' ? 'ocpp2.0.1' : 'ocpp1.6';
}

/** The answer's `status` when it has one (most CALLRESULTs do). */
export function answerStatus(answer: unknown): string | null {
  const status = (answer as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'string' ? status : null;
}
