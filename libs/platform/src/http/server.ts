// Start an HTTP server and stop it gracefully: stop accepting, let in-flight requests
// finish (up to a deadline), then close idle keep-alive sockets.
//
// Slow clients: the request headers must arrive within HEADERS_TIMEOUT_MS and the whole
// request (headers and body) within REQUEST_TIMEOUT_MS; Node checks every second. What the
// HTTP parser refuses itself (headers too large, a malformed request line, an unknown
// method, a request that took too long) is answered with problem+json, not Node's bare
// text, and the connection is closed only after the client's remaining bytes are read,
// so the answer arrives instead of a reset.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import { PROBLEM_CONTENT_TYPE, problemTypes } from '@praxis/contracts';

export interface RunningServer {
  server: http.Server;
  port: number;
  close(deadlineMs?: number): Promise<void>;
}

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** Largest request head (request line and headers) accepted: 16 KiB, Node's default. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface ServerTimeouts {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export function createHttpServer(app: Express | http.RequestListener, timeouts: ServerTimeouts = {}): http.Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      requestTimeout: timeouts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    app as http.RequestListener,
  );
  server.keepAliveTimeout = 65_000; // longer than the gateway's pool idle timeout
  server.on('clientError', answerClientError);
  return server;
}

export async function startHttpServer(
  app: Express,
  port: number,
  host = '127.0.0.1',
  timeouts: ServerTimeouts = {},
): Promise<RunningServer> {
  const server = createHttpServer(app, timeouts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    close: (deadlineMs = 10_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, deadlineMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

/** What the parser's error means for the client: status, problem type, title, detail. */
export function clientErrorProblem(code: string | undefined): { status: number; type: string; title: string; detail: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        type: problemTypes.headersTooLarge,
        title: 'Request header fields too large',
        detail: `The request head is larger than ${MAX_HEADER_BYTES} bytes.`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, type: problemTypes.timeout, title: 'Request timeout', detail: 'The request was not received in time.' };
    case 'HPE_INVALID_METHOD':
      return { status: 405, type: problemTypes.methodNotAllowed, title: 'Method not allowed', detail: 'This method is not supported.' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, type: problemTypes.payloadTooLarge, title: 'Payload too large', detail: 'The chunk extensions are too large.' };
    default:
      return {
        status: 400,
        type: problemTypes.validation,
        title: 'Invalid request',
        detail: 'The request could not be parsed as HTTP/1.1.',
      };
  }
}

/** Bytes read after answering, at most, before the socket is closed anyway. */
const DRAIN_MAX_BYTES = 1024 * 1024;
const DRAIN_MAX_MS = 2_000;

/** Sockets already answered: the parser reports an error again for every later chunk. */
const answered = new WeakSet<Duplex>();

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const s = socket as Duplex & { bytesWritten?: number; _httpMessage?: unknown };
  if (err.code === 'ECONNRESET' || !socket.writable || (s.bytesWritten ?? 0) > 0 || s._httpMessage) {
    socket.destroy();
    return;
  }
  const p = clientErrorProblem(err.code);
  const body = JSON.stringify({ type: p.type, title: p.title, status: p.status, detail: p.detail });
  const head = [
    `HTTP/1.1 ${p.status} ${reasons[p.status] ?? 'Bad Request'}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    ...(p.status === 405 ? ['Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'] : []),
    'Connection: close',
  ];
  // Read (and drop) what the client is still sending, so closing does not reset the
  // connection before it has read the answer; bounded in bytes and time.
  // Node's own data listener would feed the broken parser again: take it off.
  socket.removeAllListeners('data');
  let drained = 0;
  const stop = setTimeout(() => socket.destroy(), DRAIN_MAX_MS);
  stop.unref();
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) socket.destroy();
  });
  socket.on('close', () => clearTimeout(stop));
  socket.on('error', () => socket.destroy());
  socket.resume();
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
