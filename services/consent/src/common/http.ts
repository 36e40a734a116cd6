// Shapes shared by the consent routes: opaque ids in paths.
import { z } from 'zod';

/** An opaque id in a path. Anything else that is not found answers 404, not 400. */
export const idParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

export const patientParams = z.strictObject({ id: idParam });

const noControl = (s: string) => !/\p{Cc}/u.test(s.replace(/[\n\r\t]/g, ''));
/** Free text: trimmed, bounded, no control characters but line breaks and tabs. */
export const text = (max: number) => z.string().trim().min(1).max(max).refine(noControl, 'control characters are not allowed');
