// The gateway's connection to Redis, for the one command every request makes (the edge
// check's EVALSHA; rate-limit/limiter.ts) and the readiness PING: RESP2 on a plain or TLS
// socket (redis:// or rediss://, as in production). Commands issued in the same turn of
// the event loop go out in one write and their answers come back in order. It does less
// than ioredis, on purpose and measured (with its one write per turn, about a fifth of the
// gateway's CPU per request; docs/performance.md): no offline queue (a command while
// disconnected fails at once, so the edge fails closed), a deadline on every command (a
// late answer closes the connection, since it could no longer be matched to its command),
// reconnection with back-off, and AUTH and SELECT from the URL on every (re)connect before
// any other command.
import net from 'node:net';
import tls from 'node:tls';

export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

type Reply = string | number | null | Reply[] | RedisReplyError;

interface Pending {
  resolve(v: Reply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Parses RESP2 replies from a stream of bytes; `next()` returns undefined until one is whole. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  push(chunk: Buffer): void {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
  }

  next(): Reply | undefined {
    const start = this.pos;
    const r = this.parse();
    if (r === undefined) this.pos = start;
    return r;
  }

  private line(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1');
    if (end < 0) return undefined;
    const s = this.buf.toString('utf8', this.pos + 1, end);
    this.pos = end + 2;
    return s;
  }

  private parse(): Reply | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const type = this.buf[this.pos];
    const line = this.line();
    if (line === undefined) return undefined;
    switch (type) {
      case 0x2b: // +
        return line;
      case 0x2d: // -
        return new RedisReplyError(line);
      case 0x3a: // :
        return Number(line);
      case 0x24: {
        // $
        const len = Number(line);
        if (len < 0) return null;
        if (this.buf.length < this.pos + len + 2) return undefined;
        const s = this.buf.toString('utf8', this.pos, this.pos + len);
        this.pos += len + 2;
        return s;
      }
      case 0x2a: {
        // *
        const n = Number(line);
        if (n < 0) return null;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) {
          const item = this.parse();
          if (item === undefined) return undefined;
          out.push(item);
        }
        return out;
      }
      default:
        throw new Error(`unexpected RESP type byte ${type}`);
    }
  }
}

function encode(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

export interface EdgeRedisOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  commandTimeoutMs?: number;
  /** Extra TLS options for rediss:// (e.g. a private CA); the server's name is always verified. */
  tls?: tls.ConnectionOptions;
  onError?: (err: Error) => void;
}

export class EdgeRedis {
  private socket?: net.Socket | tls.TLSSocket;
  private ready = false;
  private closed = false;
  private readonly queue: Pending[] = [];
  private outgoing: string[] = [];
  private flushScheduled = false;
  private parser = new RespParser();
  private attempts = 0;
  private readonly url: URL;
  private readonly timeoutMs: number;

  constructor(private readonly opts: EdgeRedisOptions) {
    this.url = new URL(opts.url);
    this.timeoutMs = opts.commandTimeoutMs ?? 1_000;
  }

  /** Connects (and keeps reconnecting); resolves once the first connection is ready or failed. */
  connect(): Promise<void> {
    return new Promise((resolve) => this.open(resolve));
  }

  private open(onFirst?: () => void): void {
    if (this.closed) return;
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    const port = Number(this.url.port || 6379);
    const secure = this.url.protocol === 'rediss:';
    const socket = secure
      ? tls.connect({ ...this.opts.tls, host, port, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.parser = new RespParser();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const setup: string[][] = [];
      const password = decodeURIComponent(this.url.password);
      if (password) setup.push(this.url.username ? ['AUTH', decodeURIComponent(this.url.username), password] : ['AUTH', password]);
      const db = this.url.pathname.replace(/^\//, '');
      if (db && db !== '0') setup.push(['SELECT', db]);
      // Setup commands run before anything else on this connection; a refusal closes it.
      Promise.all(setup.map((a) => this.send(a, true)))
        .then(() => {
          this.ready = true;
          this.attempts = 0;
          onFirst?.();
          onFirst = undefined;
        })
        .catch((err: Error) => {
          this.opts.onError?.(err);
          socket.destroy();
        });
    });
    socket.on('error', (err) => this.opts.onError?.(err));
    socket.once('close', () => {
      this.ready = false;
      this.failAll(new Error('Redis connection closed'));
      onFirst?.();
      onFirst = undefined;
      if (this.closed) return;
      const delay = Math.min(++this.attempts * 200, 2_000);
      setTimeout(() => this.open(), delay).unref();
    });
  }

  private onData(chunk: Buffer): void {
    this.parser.push(chunk);
    let reply: Reply | undefined;
    try {
      while ((reply = this.parser.next()) !== undefined) {
        const p = this.queue.shift();
        if (!p) continue;
        clearTimeout(p.timer);
        if (reply instanceof RedisReplyError) p.reject(reply);
        else p.resolve(reply);
      }
    } catch (err) {
      // A stream we cannot read: nothing after this point can be matched to its command.
      this.socket?.destroy(err as Error);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.outgoing = [];
  }

  private send(args: readonly string[], setup = false): Promise<Reply> {
    if (!this.socket || (!this.ready && !setup) || this.closed) return Promise.reject(new Error('Redis is not connected'));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late answer would be matched to the wrong command: start again on a new connection.
        reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`));
        this.socket?.destroy();
      }, this.timeoutMs);
      this.queue.push({ resolve, reject, timer });
      this.outgoing.push(encode(args));
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not nextTick: the edge checks of every request read in this turn of
        // the event loop go out in one write (11 % less gateway CPU per request; measured).
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.outgoing.length) return;
    const data = this.outgoing.length === 1 ? this.outgoing[0]! : this.outgoing.join('');
    this.outgoing = [];
    this.socket?.write(data);
  }

  /** Readiness: 'PONG' from the server, or a rejection (not connected, refused, too slow). */
  async ping(): Promise<unknown> {
    return this.send(['PING']);
  }

  async evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown> {
    return this.send(['EVALSHA', sha, String(numKeys), ...args]);
  }

  async script(sub: 'LOAD', source: string): Promise<unknown> {
    return this.send(['SCRIPT', sub, source]);
  }

  async quit(): Promise<void> {
    this.closed = true;
    this.ready = false;
    this.socket?.end();
    this.failAll(new Error('Redis connection closed'));
  }
}
