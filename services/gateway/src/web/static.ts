// The web client (public/) and the API browser (/docs): plain static files, no build
// step, no third-party origin, so they run under the gateway's 'self'-only CSP.
import express, { type Express } from 'express';
import path from 'node:path';

export const publicDir = path.resolve(__dirname, '../../public');

export function serveWebClient(app: Express): void {
  app.get('/docs', (_req, res) => {
    res.locals.route = '/docs';
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(publicDir, 'docs', 'index.html'));
  });
  // The page behind an emailed privacy-notice link (`ackPath` of consent.notice.requested,
  // below the public URL): the web client, which reads the token from its path.
  app.get('/privacy-notices/ack/:token', (req, res, next) => {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(String(req.params.token))) return next();
    res.locals.route = '/privacy-notices/ack/:token';
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.sendFile(path.join(publicDir, 'index.html'));
  });
  app.use(
    express.static(publicDir, {
      index: 'index.html',
      dotfiles: 'ignore',
      etag: true,
      fallthrough: true,
      redirect: false,
      setHeaders: (res) => {
        res.locals.route = 'static';
        res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
}
