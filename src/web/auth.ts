import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Compares a typed secret with the expected one in constant time (digests of equal length). */
export function secretMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface Session {
  /** Sent in every form and in the x-csrf-token header of the page's own requests. */
  readonly csrf: string;
  readonly created: number;
  lastSeen: number;
  /** Open log tails of this session. */
  streams: number;
  /** What the last change did, shown once on the next page (post, redirect, get). */
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

export interface SessionLimits {
  /** A session unused this long is gone (ms). */
  readonly idleMs: number;
  /** And any session this old (ms). */
  readonly maxAgeMs: number;
  /** The oldest is dropped beyond this many. */
  readonly maxSessions: number;
}

export const SESSION_LIMITS: SessionLimits = { idleMs: 12 * 3600_000, maxAgeMs: 7 * 24 * 3600_000, maxSessions: 32 };

/**
 * Sessions in memory: a restart of the supervisor logs everyone out, which for a
 * dashboard of one household is a fair price for storing nothing on disk. The map is
 * keyed by a digest of the cookie, so the cookie values themselves are not kept.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly limits: SessionLimits = SESSION_LIMITS, private readonly now: () => number = Date.now) {}

  create(): { id: string; session: Session } {
    this.#sweep();
    while (this.#sessions.size >= this.limits.maxSessions) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    const id = randomToken();
    const at = this.now();
    const session: Session = { csrf: randomToken(), created: at, lastSeen: at, streams: 0 };
    this.#sessions.set(key(id), session);
    return { id, session };
  }

  /** The live session of a cookie value, touched; undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || id === '') return undefined;
    const k = key(id);
    const session = this.#sessions.get(k);
    if (!session) return undefined;
    const at = this.now();
    if (at - session.lastSeen > this.limits.idleMs || at - session.created > this.limits.maxAgeMs) {
      this.#sessions.delete(k);
      return undefined;
    }
    session.lastSeen = at;
    return session;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(key(id));
  }

  get size(): number { return this.#sessions.size; }

  #sweep(): void {
    const at = this.now();
    for (const [k, s] of this.#sessions) {
      if (at - s.lastSeen > this.limits.idleMs || at - s.created > this.limits.maxAgeMs) this.#sessions.delete(k);
    }
  }
}

function key(id: string): string {
  return sha256(id).toString('hex');
}

export interface LoginLimits {
  /** Failed logins one client address may make per window. */
  readonly perClient: number;
  /** Failed logins all clients together may make per window (guessing from many addresses). */
  readonly overall: number;
  readonly windowMs: number;
}

export const LOGIN_LIMITS: LoginLimits = { perClient: 5, overall: 20, windowMs: 60_000 };

/**
 * Counts failed logins in fixed windows, per client address and overall. While a limit is
 * reached every login is refused, the right password too: a guesser learns nothing more.
 */
export class LoginLimiter {
  #windowStart = 0;
  #overall = 0;
  readonly #perClient = new Map<string, number>();

  constructor(private readonly limits: LoginLimits = LOGIN_LIMITS, private readonly now: () => number = Date.now) {}

  /** Milliseconds until `client` may try again; 0 when it may now. */
  retryAfterMs(client: string): number {
    this.#roll();
    const blocked = this.#overall >= this.limits.overall || (this.#perClient.get(client) ?? 0) >= this.limits.perClient;
    return blocked ? Math.max(1, this.#windowStart + this.limits.windowMs - this.now()) : 0;
  }

  failed(client: string): void {
    this.#roll();
    this.#overall += 1;
    // Bounded: a flood from many addresses hits the overall limit long before this.
    if (this.#perClient.size < 10_000 || this.#perClient.has(client)) this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1);
  }

  #roll(): void {
    const at = this.now();
    if (at - this.#windowStart >= this.limits.windowMs) {
      this.#windowStart = at;
      this.#overall = 0;
      this.#perClient.clear();
    }
  }
}

/** Parses a Cookie header into name -> value (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}
