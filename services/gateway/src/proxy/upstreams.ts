// One pooled keep-alive connection set per upstream service (undici Pool). Idle sockets
// are dropped before the services' own keep-alive timeout (65 s) so a reused socket is
// never one the service is closing.
import { Pool } from 'undici';
import type { UpstreamName } from './route-table';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** Time allowed for the response headers, and between body chunks. */
  responseTimeoutMs: number;
  connections: number;
}

export interface Upstream {
  name: UpstreamName;
  origin: string;
  pool: Pool;
}

export class Upstreams {
  private readonly byName = new Map<UpstreamName, Upstream>();

  constructor(
    urls: Partial<Record<UpstreamName, string>>,
    readonly options: UpstreamOptions,
  ) {
    for (const [name, url] of Object.entries(urls) as [UpstreamName, string | undefined][]) {
      if (!url) continue;
      const origin = new URL(url).origin;
      const pool = new Pool(origin, {
        connections: options.connections,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 60_000,
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: options.responseTimeoutMs,
        bodyTimeout: options.responseTimeoutMs,
        pipelining: 1,
      });
      this.byName.set(name, { name, origin, pool });
    }
  }

  get(name: UpstreamName): Upstream | undefined {
    return this.byName.get(name);
  }

  all(): Upstream[] {
    return [...this.byName.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((u) => u.pool.close().catch(() => u.pool.destroy())));
  }
}

/** GET a small JSON document from an upstream (readiness, OpenAPI), with a deadline. */
export async function getJson(
  upstream: Upstream,
  path: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  timer.unref();
  let text: string;
  let statusCode: number;
  try {
    const res = await upstream.pool.request({
      path,
      method: 'GET',
      headers: { accept: 'application/json', ...headers },
      signal: abort.signal,
    });
    statusCode = res.statusCode;
    text = await res.body.text();
  } finally {
    clearTimeout(timer);
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: statusCode, body };
}
