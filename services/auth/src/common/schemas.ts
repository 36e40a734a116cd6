// Request and response shapes that several of auth's features use (sign-up, login, users,
// support, deletion), and the client address the platform decided. Feature route files take
// them from here rather than from each other (docs/new-service.md).
import { codePointString, humanText, pageQuery } from '@praxis/platform';
import type { Request } from 'express';
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN } from './passwords';

export const slugSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens');
export const emailSchema = z.email().max(254);
/** A person's or a practice's name: no control, bidi-override or zero-width characters. */
export const nameSchema = humanText({ max: 200 });
/** A password being checked (login, confirmation): any length the policy ever allowed. */
export const passwordSchema = codePointString(1, PASSWORD_MAX);
/** A password being set: the policy's length, stated in the document as the server enforces it. */
export const newPasswordSchema = codePointString(PASSWORD_MIN, PASSWORD_MAX);

/** `?limit=&cursor=` of a list. */
export const listQuery = z.strictObject(pageQuery);

export const tokenResponse = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number(),
  tokenType: z.literal('Bearer'),
});

/** The client's address as the platform decided it (TRUSTED_PROXIES; validated, normalised). */
export const clientIp = (req: Request): string => req.ip ?? 'unknown';
