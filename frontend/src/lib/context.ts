import { getContext, setContext } from 'svelte';
import type { ApiClient } from './api/client';
import type { Auth } from './auth.svelte';
import type { Router } from './router.svelte';

export interface AppContext {
  api: ApiClient;
  auth: Auth;
  router: Router;
}

const KEY = Symbol('tandem-app');

export function setAppContext(context: AppContext): AppContext {
  return setContext(KEY, context);
}

export function getAppContext(): AppContext {
  const context = getContext<AppContext | undefined>(KEY);
  if (!context) throw new Error('getAppContext() called outside <App>');
  return context;
}
