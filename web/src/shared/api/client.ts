/**
 * The app API, typed from its own OpenAPI document (`schema.d.ts`, generated; `npm run
 * api:check` fails when it is stale). Every call carries a fresh access token; a 401 gets one
 * refresh and one retry, then sends the user to sign in again, back to the same page.
 */
import createClient from 'openapi-fetch';
import type { AuthClient } from '../auth/session';
import { SessionExpired } from '../auth/session';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Api = ReturnType<typeof createApi>;

/** An API answer other than success: the RFC 9457 problem document when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | null,
  ) {
    super(detail ?? `HTTP ${status}`);
  }
}

/** Could not reach the API at all (offline, DNS, CORS). */
export class NetworkError extends Error {}

export function createApi(baseUrl: string, auth: AuthClient) {
  const authorized = async (request: Request, token: string) => {
    const copy = new Request(request);
    copy.headers.set('authorization', `Bearer ${token}`);
    try {
      return await fetch(copy);
    } catch {
      throw new NetworkError('unreachable');
    }
  };
  const authedFetch = async (request: Request): Promise<Response> => {
    const retry = request.clone();
    let response = await authorized(request, await auth.accessToken());
    if (response.status === 401) {
      if (!(await auth.refresh())) {
        auth.expired();
        throw new SessionExpired();
      }
      response = await authorized(retry, await auth.accessToken());
      if (response.status === 401) {
        auth.expired();
        throw new SessionExpired();
      }
    }
    return response;
  };
  return createClient<paths>({ baseUrl, fetch: authedFetch });
}

/** The data of an openapi-fetch result, or its problem as an ApiError. */
export async function data<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data: body, error, response } = await call;
  if (response.ok) return body as T;
  const problem = error as { detail?: unknown; message?: unknown } | undefined;
  const detail = typeof problem?.detail === 'string' ? problem.detail : null;
  throw new ApiError(response.status, detail);
}
