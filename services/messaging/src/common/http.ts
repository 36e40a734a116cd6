// Shapes shared by the messaging routes: opaque ids in paths (list paging is the platform's
// paging.ts: pageQuery, decodeCursor, pageOf).
import { z } from 'zod';

/** An opaque id in a path. Anything else that is not found answers 404, not 400. */
export const idParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
