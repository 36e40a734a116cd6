// One way to page a list (API.md "Lists"): `?limit=` (default 50, max 200) and an opaque
// `?cursor=` that encodes the position after the last item of the page — an id, or a
// sequence number written as a string. A cursor from anywhere else is a 400, not a crash.
import { z } from 'zod';
import { problems } from './http/problem';

/** Query fields every list route declares (spread into its `z.strictObject`). */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
};

const POSITION = /^[A-Za-z0-9_|.:-]{1,128}$/;

/** An opaque cursor for the position after `last` (an id or a sequence number). */
export function encodeCursor(last: string | number): string {
  return Buffer.from(`c1:${String(last)}`, 'utf8').toString('base64url');
}

/** The position a cursor stands for, or undefined without one; 400 when it is not one of ours. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  const position = s.startsWith('c1:') ? s.slice(3) : '';
  if (!POSITION.test(position))
    throw problems.badRequest('The cursor is not valid.', [{ path: 'query.cursor', message: 'not a cursor from this list' }]);
  return position;
}

export interface Page<T> {
  items: T[];
  next?: string;
}

/** A page from `limit + 1` rows: the extra row only tells that there is a next page. */
export function pageOf<T>(rows: T[], limit: number, positionOf: (item: T) => string | number): Page<T> {
  const items = rows.slice(0, limit);
  return rows.length > limit ? { items, next: encodeCursor(positionOf(items[items.length - 1]!)) } : { items };
}
