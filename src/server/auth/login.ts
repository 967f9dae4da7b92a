/**
 * @module server/auth/login
 * `/login` (a form: an API token, or a user's name and password), `/logout`.
 */
import type { Hono } from 'hono';
import type { AppEnv, ServerDeps } from '../types.js';

export function registerLogin(app: Hono<AppEnv>, deps: ServerDeps): void {
  void app;
  void deps;
}
