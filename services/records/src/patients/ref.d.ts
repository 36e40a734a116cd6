export declare const REF_PREFIX = "PX";
/** Luhn mod N check character over the Crockford alphabet: catches every single-character error and adjacent swaps. */
export declare function checkCharacter(payload: string): string;
export declare function newPatientRef(): string;
export type RefParse = {
    ok: true;
    ref: string;
} | {
    ok: false;
    reason: 'format' | 'check';
};
/**
 * Read a ref as a person might type it: any case, with or without dashes, and Crockford's
 * look-alikes (O→0, I/L→1). A wrong check character is reported, not silently searched.
 */
export declare function parsePatientRef(input: string): RefParse;
//# sourceMappingURL=ref.d.ts.map