// helmet's protective headers, set by hand so the gateway needs no extra package, with a
// Content-Security-Policy that lets the web client load only its own files. Services set
// a stricter CSP (default-src 'none') on their JSON answers, which the proxy keeps.
import type { NextFunction, Request, Response } from 'express';

export const contentSecurityPolicy = [
  "default-src 'self'",
  "base-uri 'none'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
].join('; ');

const headers: Record<string, string> = {
  'Content-Security-Policy': contentSecurityPolicy,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Origin-Agent-Cluster': '?1',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Frame-Options': 'DENY',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'X-XSS-Protection': '0',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const entries = Object.entries(headers);

export function securityHeaders() {
  return (_req: Request, res: Response, next: NextFunction): void => {
    for (const [k, v] of entries) res.setHeader(k, v);
    next();
  };
}
