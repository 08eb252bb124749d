import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';

describe('toCsv', () => {
  it('writes a header and quotes what needs quoting', () => {
    const csv = toCsv([
      { stationId: 'CP-1', transactionId: '7', state: 'completed', idToken: 'A,B', energyWh: 1234.5, stopReason: 'say "hi"' },
      { stationId: '=cmd', transactionId: '8', state: 'active' },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'stationId,transactionId,state,evse,connector,idToken,startedAt,stoppedAt,energyWh,stopReason',
      'CP-1,7,completed,,,"A,B",,,1234.5,"say ""hi"""',
      "'=cmd,8,active,,,,,,,",
      '',
    ]);
  });
});
