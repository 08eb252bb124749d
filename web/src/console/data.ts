/** Reads the console needs in several places: whole lists assembled from pages. */
import { data, type Api, type Schemas } from '../shared/api/client';

export type OperatorStation = Schemas['OperatorStationView'];
export type SessionView = Schemas['SessionView'];
export type SessionQuery = {
  stationId?: string;
  state?: string;
  from?: string;
  to?: string;
};

/** Up to `max` of the organisation's stations (and whether there are more). */
export async function allStations(api: Api, max = 500): Promise<{ stations: OperatorStation[]; more: boolean }> {
  const stations: OperatorStation[] = [];
  let cursor: string | undefined;
  do {
    const page = await data(api.GET('/v1/operator/stations', { params: { query: { limit: 100, cursor } } }));
    stations.push(...page.stations);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && stations.length < max);
  return { stations, more: Boolean(cursor) };
}

/** Up to `max` sessions matching `query`, newest start first. */
export async function allSessions(api: Api, query: SessionQuery, max = 1000): Promise<{ sessions: SessionView[]; more: boolean }> {
  const sessions: SessionView[] = [];
  let cursor: string | undefined;
  do {
    const page = await data(api.GET('/v1/operator/sessions', { params: { query: { ...query, limit: 100, cursor } } }));
    sessions.push(...page.sessions);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && sessions.length < max);
  return { sessions, more: Boolean(cursor) };
}
