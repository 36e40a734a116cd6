// Shapes shared by the messaging routes: opaque ids in paths and list paging.
import { problems } from '@praxis/platform';
import { z } from 'zod';

/** An opaque id in a path. Anything else that is not found answers 404, not 400. */
export const idParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
};

/** An opaque cursor: the id of the last item of the page, base64url-encoded. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`c1:${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^c1:([A-Za-z0-9_-]{1,64})$/.exec(s);
  if (!m) throw problems.badRequest('The cursor is not valid.', [{ path: 'query.cursor', message: 'not a cursor from this list' }]);
  return m[1];
}

export interface Page<T> {
  items: T[];
  next?: string;
}

export function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return rows.length > limit ? { items, next: encodeCursor(items[items.length - 1]!.id) } : { items };
}
