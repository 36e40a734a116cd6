// Start an HTTP server and stop it gracefully: stop accepting, let in-flight requests
// finish (up to a deadline), then close idle keep-alive sockets.
import http from 'node:http';
import type { Express } from 'express';

export interface RunningServer {
  server: http.Server;
  port: number;
  close(deadlineMs?: number): Promise<void>;
}

export async function startHttpServer(app: Express, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000; // longer than the gateway's pool idle timeout
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
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
