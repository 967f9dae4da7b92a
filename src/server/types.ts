/**
 * @module server/types
 * What the web server and HTTP API are built from (`createApp`) and what every route sees: the
 * store, a logger, the clock, and the authenticated principal of the request.
 */
import type { AccessRole, SessionRecord, Store } from '../store/index.js';

/** Who made a request: a user logged in with name and password, or an API token (by its ID). */
export interface Principal {
  kind: 'user' | 'token';
  /** The user's name, or the token's ID. */
  id: string;
  /** For display: the user's name, or the token's name. */
  name: string;
  role: AccessRole;
}

export interface ServerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Optional capabilities the CLI wires in; a page or route whose capability is absent says so. */
export interface ServerCapabilities {
  /** The watched domains (the monitor's watch list), for the domains pages. */
  watchedDomains?: () => Promise<string[]>;
  /** Runs `caa audit` for one domain now and returns its JSON result (stored by the caller). */
  auditDomain?: (domain: string) => Promise<unknown>;
}

export interface ServerDeps extends ServerCapabilities {
  store: Store;
  logger: ServerLogger;
  /** The clock (tests pass a fixed one). */
  now?: () => Date;
  /** Set `Secure` on cookies: the server listens with TLS. */
  secureCookies: boolean;
  /** Session lifetime, ms (default 8 h). */
  sessionTtlMs?: number;
}

/** Hono's per-request variables of this app. */
export interface AppEnv {
  Variables: {
    /** Null before authentication and on the public routes. */
    principal: Principal | null;
    /** The browser session, when the request came with a valid session cookie. */
    session: SessionRecord | null;
  };
}
