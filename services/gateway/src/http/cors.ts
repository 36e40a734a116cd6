// CORS with an allow-list of origins. A preflight from an origin not on the list is
// refused; other requests from it get no CORS headers, so the browser keeps the answer
// from the page. Bearer tokens, not cookies, so credentials are never allowed.
import { sendProblem } from '@praxis/platform';
import { problemTypes } from '@praxis/contracts';
import type { NextFunction, Request, Response } from 'express';

const allowedHeaders = 'Authorization, Content-Type, X-Request-Id, traceparent, tracestate';
const exposedHeaders = 'X-Request-Id, Retry-After, Location';
const allowedMethods = 'GET, POST, PUT, PATCH, DELETE';

export function cors(origins: readonly string[]) {
  const allowed = new Set(origins.map((o) => new URL(o).origin));
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    res.vary('Origin');
    if (typeof origin === 'string' && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', exposedHeaders);
      if (preflight) {
        res.setHeader('Access-Control-Allow-Methods', allowedMethods);
        res.setHeader('Access-Control-Allow-Headers', allowedHeaders);
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    } else if (preflight) {
      sendProblem(res, { type: problemTypes.forbidden, title: 'Forbidden', status: 403, detail: 'This origin may not call the API.' });
      return;
    }
    next();
  };
}
