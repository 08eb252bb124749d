import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'react';
import { useApp } from '../context';
import type { Tone } from './StatusPill';

export interface MapStation {
  id: string;
  latitude: number;
  longitude: number;
  tone: Tone;
  /** The marker's accessible name, e.g. "CP-1, 2 of 3 available". */
  title: string;
}

const BOLT = '<svg width="16" height="16" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M13 2 4 14h7l-1 8 9-12h-7z"/></svg>';

function icon(station: MapStation, selected: boolean): L.DivIcon {
  return L.divIcon({
    className: '',
    html: `<div class="marker tone-${station.tone}${selected ? ' selected' : ''}">${BOLT}</div>`,
    iconSize: [34, 34],
    iconAnchor: [4, 34],
  });
}

/**
 * Stations on an OpenStreetMap-compatible raster map (tile URL from config.json). Markers are
 * keyboard reachable and named; the list view is the full alternative without the map.
 */
export function StationMap({
  stations,
  center,
  zoom = 13,
  selected,
  onSelect,
  onMove,
  label,
  fit,
}: {
  stations: MapStation[];
  center: [number, number];
  zoom?: number;
  selected?: string;
  onSelect?: (id: string) => void;
  /** The map's new centre after the user pans. */
  onMove?: (center: [number, number]) => void;
  label: string;
  /** Zoom to show every station instead of `center`. */
  fit?: boolean;
}) {
  const { config } = useApp();
  const element = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const bounds = useRef<L.LatLngBounds | null>(null);
  const handlers = useRef({ onSelect, onMove });
  handlers.current = { onSelect, onMove };

  useEffect(() => {
    if (!element.current) return;
    const m = L.map(element.current, { zoomControl: true, attributionControl: true }).setView(center, zoom);
    m.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    L.tileLayer(config.map.tileUrl, { attribution: config.map.attribution, maxZoom: 19 }).addTo(m);
    layer.current = L.layerGroup().addTo(m);
    m.on('moveend', () => {
      const c = m.getCenter();
      handlers.current.onMove?.([c.lat, c.lng]);
    });
    map.current = m;
    // Shown after being hidden (the phone's map/list switch) or laid out anew: let Leaflet
    // measure again, and fit the stations again when it shows all of them.
    const resized = new ResizeObserver(() => {
      m.invalidateSize();
      if (bounds.current) m.fitBounds(bounds.current, { maxZoom: 14 });
    });
    resized.observe(element.current);
    return () => {
      resized.disconnect();
      m.remove();
      map.current = null;
    };
    // The map is made once; centre changes below move it.
  }, []);

  const [lat, lon] = center;
  useEffect(() => {
    const m = map.current;
    if (m && !fit) {
      const c = m.getCenter();
      if (Math.abs(c.lat - lat) > 1e-6 || Math.abs(c.lng - lon) > 1e-6) m.setView([lat, lon], m.getZoom());
    }
  }, [lat, lon, fit]);

  useEffect(() => {
    const group = layer.current;
    if (!group) return;
    group.clearLayers();
    for (const s of stations) {
      const marker = L.marker([s.latitude, s.longitude], {
        icon: icon(s, s.id === selected),
        title: s.title,
        alt: s.title,
        keyboard: true,
        riseOnHover: true,
      });
      marker.on('click keypress', () => handlers.current.onSelect?.(s.id));
      marker.addTo(group);
      const el = marker.getElement();
      if (el) {
        el.setAttribute('role', 'button');
        el.setAttribute('aria-label', s.title);
        el.dataset.station = s.id;
      }
    }
    bounds.current = fit && stations.length ? L.latLngBounds(stations.map((s) => [s.latitude, s.longitude] as [number, number])).pad(0.15) : null;
    if (bounds.current && map.current) map.current.fitBounds(bounds.current, { maxZoom: 14 });
  }, [stations, selected, fit]);

  return <div ref={element} className="map" role="region" aria-label={label} />;
}
