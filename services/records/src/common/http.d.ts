import { type AuthContext } from '@praxis/platform';
import { z } from 'zod';
/** An opaque id in a path. Anything else that is not found answers 404, not 400. */
export declare const idParam: z.ZodString;
export declare const pageQuery: {
    limit: z.ZodDefault<z.ZodCoercedNumber<unknown>>;
    cursor: z.ZodOptional<z.ZodString>;
};
/** An opaque cursor: the id of the last item of the page, base64url-encoded. */
export declare function encodeCursor(lastId: string): string;
export declare function decodeCursor(cursor: string | undefined): string | undefined;
export interface Page<T> {
    items: T[];
    next?: string;
}
export declare function pageOf<T extends {
    id: string;
}>(rows: T[], limit: number): Page<T>;
/**
 * Which patients the caller may see. Support with scope `settings` holds only the
 * `*-test` permissions: real patients do not exist for it (404), it sees test ones only.
 */
export declare function patientScope(auth: AuthContext): {
    testOnly: boolean;
};
export declare function canWriteRealPatients(auth: AuthContext): boolean;
//# sourceMappingURL=http.d.ts.map