/** What the apps learn from their host at start: `/config.json`, written by the web door (the
 * local stand-in) or, in AWS, by the CDK stack at deploy time. Nothing here is secret. */
export interface AppConfig {
  apiUrl: string;
  /** Where piles connect: `<ocppUrl><station id>`. */
  ocppUrl?: string;
  auth: {
    authorizeUrl: string;
    tokenUrl: string;
    logoutUrl: string;
    clientId: string;
  };
  map: {
    /** Raster tiles, `{z}/{x}/{y}` (and `{s}`): the tile provider is the operator's choice. */
    tileUrl: string;
    attribution: string;
    /** [latitude, longitude] where the driver's map starts without the browser's position. */
    center: [number, number];
  };
}

function isConfig(value: unknown): value is AppConfig {
  const c = value as AppConfig;
  return (
    typeof c?.apiUrl === 'string' &&
    typeof c.auth?.authorizeUrl === 'string' &&
    typeof c.auth?.tokenUrl === 'string' &&
    typeof c.auth?.logoutUrl === 'string' &&
    typeof c.auth?.clientId === 'string' &&
    typeof c.map?.tileUrl === 'string' &&
    Array.isArray(c.map?.center)
  );
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { cache: 'no-cache' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config: unknown = await response.json();
  if (!isConfig(config)) throw new Error('config.json lacks apiUrl, auth or map settings');
  return { ...config, apiUrl: config.apiUrl.replace(/\/$/, '') };
}
