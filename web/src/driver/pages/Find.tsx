import { useEffect, useMemo, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { data, type Schemas } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { connectorLabel, t } from '../../shared/i18n';
import { formatDistance, formatPower } from '../../shared/i18n/format';
import {
  availabilityText,
  maxPower,
  PLUG_FAMILIES,
  plugs,
  stationName,
  stationTone,
} from '../../shared/model/stations';
import { Button } from '../../shared/ui/Button';
import { Icon } from '../../shared/ui/Icon';
import { StationMap, type MapStation } from '../../shared/ui/StationMap';
import { EmptyState, ErrorBanner, Loading } from '../../shared/ui/States';

type Nearby = Schemas['NearbyStation'];
const RADIUS_M = 20_000;
const POWERS_KW = [11, 22, 50, 150];

interface Filters {
  family: string;
  minKw: number;
  availableNow: boolean;
}

function matches(station: Nearby, f: Filters): boolean {
  const connectors = plugs(station);
  const wanted = f.family ? PLUG_FAMILIES[f.family] ?? [] : null;
  return connectors.some(
    (c) =>
      (!wanted || (c.type != null && wanted.includes(c.type))) &&
      (!f.minKw || (c.maxPowerW ?? 0) >= f.minKw * 1000) &&
      (!f.availableNow || (station.online && c.status === 'Available')),
  );
}

function families(station: Nearby): string[] {
  const types = new Set(plugs(station).map((c) => c.type));
  const named = Object.entries(PLUG_FAMILIES)
    .filter(([, words]) => words.some((w) => types.has(w)))
    .map(([family]) => family);
  const other = [...types].filter((ty) => ty && !Object.values(PLUG_FAMILIES).flat().includes(ty)).map((ty) => connectorLabel(ty));
  return [...named, ...other];
}

function StationItem({ station, selected, onHover }: { station: Nearby; selected: boolean; onHover: () => void }) {
  const power = maxPower(station);
  const tone = stationTone(station);
  return (
    <li>
      <Link
        href={`/stations/${encodeURIComponent(station.stationId)}`}
        className={`list-item station-item${selected ? ' selected' : ''}`}
        onMouseEnter={onHover}
        onFocus={onHover}
        aria-label={t('find.openStation', { name: stationName(station) })}
        data-station={station.stationId}
      >
        <span className={`station-dot tone-${tone}`} aria-hidden="true">
          <Icon name="bolt" size={18} />
        </span>
        <span className="grow stack" style={{ ['--gap' as string]: '2px' }}>
          <span className="row between">
            <strong className="station-name">{stationName(station)}</strong>
            <span className="muted small nowrap">{formatDistance(station.distance)}</span>
          </span>
          <span className={`small availability tone-text-${tone}`}>
            {availabilityText(station)}
            {power != null && <span className="muted"> · {t('find.upTo', { power: formatPower(power) })}</span>}
          </span>
          <span className="chips">
            {families(station).map((f) => (
              <span key={f} className="chip">
                {f}
              </span>
            ))}
          </span>
        </span>
        <Icon name="chevron" size={18} />
      </Link>
    </li>
  );
}

export function Find() {
  const { api, config } = useApp();
  const search = useSearch();
  const [, navigate] = useLocation();
  const view = new URLSearchParams(search).get('view') === 'list' ? 'list' : 'map';
  const [center, setCenter] = useState<[number, number]>(config.map.center);
  const [mapCenter, setMapCenter] = useState<[number, number]>(config.map.center);
  const [filters, setFilters] = useState<Filters>({ family: '', minKw: 0, availableNow: false });
  const [selected, setSelected] = useState<string>();
  const [located, setLocated] = useState(false);

  const stations = useResource(
    () =>
      data(
        api.GET('/v1/stations', {
          params: { query: { latitude: center[0], longitude: center[1], radius: RADIUS_M, limit: 50 } },
        }),
      ),
    [center[0], center[1]],
    20_000,
  );

  // Start near the driver when the browser already may share their position.
  useEffect(() => {
    navigator.permissions
      ?.query({ name: 'geolocation' })
      .then((p) => {
        if (p.state === 'granted') locate();
      })
      .catch(() => {});
  }, []);

  const locate = () =>
    navigator.geolocation?.getCurrentPosition((position) => {
      const here: [number, number] = [position.coords.latitude, position.coords.longitude];
      setCenter(here);
      setMapCenter(here);
      setLocated(true);
    });

  const shown = useMemo(() => (stations.data?.stations ?? []).filter((s) => matches(s, filters)), [stations.data, filters]);
  const markers: MapStation[] = shown
    .filter((s) => s.location)
    .map((s) => ({
      id: s.stationId,
      latitude: s.location!.latitude,
      longitude: s.location!.longitude,
      tone: stationTone(s),
      title: t('find.markerTitle', { name: stationName(s), availability: availabilityText(s) }),
    }));
  const moved = Math.abs(mapCenter[0] - center[0]) > 0.005 || Math.abs(mapCenter[1] - center[1]) > 0.005;
  const chosen = shown.find((s) => s.stationId === selected);
  const setView = (v: 'map' | 'list') => navigate(v === 'list' ? '/?view=list' : '/', { replace: true });

  return (
    <div className="find" data-view={view}>
      <section className="find-panel" aria-labelledby="find-title">
        <div className="find-head">
          <div className="row between">
            <h1 id="find-title">{t('find.title')}</h1>
            <div className="segmented" role="group" aria-label={t('find.view')}>
              <button type="button" aria-pressed={view === 'map'} onClick={() => setView('map')}>
                <Icon name="map" size={16} /> {t('find.map')}
              </button>
              <button type="button" aria-pressed={view === 'list'} onClick={() => setView('list')}>
                <Icon name="list" size={16} /> {t('find.list')}
              </button>
            </div>
          </div>
          <fieldset className="filters">
            <legend className="sr-only">{t('find.filters')}</legend>
            <label className="filter">
              <span className="sr-only">{t('find.filter.type')}</span>
              <select value={filters.family} onChange={(e) => setFilters({ ...filters, family: e.target.value })} aria-label={t('find.filter.type')}>
                <option value="">
                  {t('find.filter.type')}: {t('common.any')}
                </option>
                {Object.keys(PLUG_FAMILIES).map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </label>
            <label className="filter">
              <span className="sr-only">{t('find.filter.power')}</span>
              <select
                value={filters.minKw}
                onChange={(e) => setFilters({ ...filters, minKw: Number(e.target.value) })}
                aria-label={t('find.filter.power')}
              >
                <option value={0}>
                  {t('find.filter.power')}: {t('common.any')}
                </option>
                {POWERS_KW.map((kw) => (
                  <option key={kw} value={kw}>
                    {t('find.filter.powerAtLeast', { kw })}
                  </option>
                ))}
              </select>
            </label>
            <label className="check filter-check">
              <input
                type="checkbox"
                checked={filters.availableNow}
                onChange={(e) => setFilters({ ...filters, availableNow: e.target.checked })}
              />
              {t('find.filter.available')}
            </label>
          </fieldset>
          <p className="muted small" role="status" aria-live="polite">
            {stations.data ? t('find.count', { count: shown.length }) : ''}
          </p>
        </div>
        <div className="find-list">
          {stations.error !== undefined && <ErrorBanner error={stations.error} />}
          {!stations.data && !stations.error && (
            <div className="page">
              <Loading />
            </div>
          )}
          {stations.data && shown.length === 0 && (
            <EmptyState icon="search" title={t('find.empty.title')}>
              {t('find.empty.text')}
            </EmptyState>
          )}
          {shown.length > 0 && (
            <ul className="list" aria-label={t('find.list')}>
              {shown.map((s) => (
                <StationItem key={s.stationId} station={s} selected={s.stationId === selected} onHover={() => setSelected(s.stationId)} />
              ))}
            </ul>
          )}
        </div>
      </section>
      <section className="find-map" aria-label={t('find.mapLabel')}>
        <StationMap
          stations={markers}
          center={mapCenter}
          selected={selected}
          onSelect={setSelected}
          onMove={setMapCenter}
          label={t('find.mapLabel')}
        />
        <div className="map-actions">
          {moved && (
            <Button variant="primary" size="small" icon="search" onClick={() => setCenter(mapCenter)}>
              {t('find.searchHere')}
            </Button>
          )}
          {'geolocation' in navigator && (
            <Button size="small" icon="locate" onClick={locate} aria-pressed={located}>
              {t('find.locate')}
            </Button>
          )}
        </div>
        {chosen && (
          <div className="map-card card">
            <ul className="list">
              <StationItem station={chosen} selected={false} onHover={() => {}} />
            </ul>
          </div>
        )}
      </section>
    </div>
  );
}
