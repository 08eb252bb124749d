import { createContext, useContext } from 'react';
import type { Api } from './api/client';
import type { AuthClient } from './auth/session';
import type { AppConfig } from './config';

export interface AppContextValue {
  config: AppConfig;
  auth: AuthClient;
  api: Api;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside <Boot>');
  return value;
}
