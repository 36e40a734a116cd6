"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.REF_PREFIX = void 0;
exports.checkCharacter = checkCharacter;
exports.newPatientRef = newPatientRef;
exports.parsePatientRef = parsePatientRef;
// The pseudonymous patient reference, e.g. `PX-7K3M-9Q2D`: the prefix `PX-`, seven random
// Crockford base32 characters (35 bits, from the CSPRNG, derived from nothing about the
// patient) and one check character (Luhn mod 32 over the same alphabet), grouped in
// fours. Safe to print in letters, emails and SMS instead of a name. Uniqueness per
// tenant is enforced by a unique index; creation retries on a collision.
const node_crypto_1 = require("node:crypto");
exports.REF_PREFIX = 'PX';
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford: no I, L, O, U
const RANDOM_CHARS = 7;
/** Luhn mod N check character over the Crockford alphabet: catches every single-character error and adjacent swaps. */
function checkCharacter(payload) {
    const n = ALPHABET.length;
    let factor = 2;
    let sum = 0;
    for (let i = payload.length - 1; i >= 0; i--) {
        const code = ALPHABET.indexOf(payload[i]);
        if (code < 0)
            throw new Error('not a Crockford base32 character');
        let addend = factor * code;
        factor = factor === 2 ? 1 : 2;
        addend = Math.floor(addend / n) + (addend % n);
        sum += addend;
    }
    return ALPHABET[(n - (sum % n)) % n];
}
function newPatientRef() {
    let payload = '';
    for (let i = 0; i < RANDOM_CHARS; i++)
        payload += ALPHABET[(0, node_crypto_1.randomInt)(ALPHABET.length)];
    const chars = payload + checkCharacter(payload);
    return `${exports.REF_PREFIX}-${chars.slice(0, 4)}-${chars.slice(4)}`;
}
/**
 * Read a ref as a person might type it: any case, with or without dashes, and Crockford's
 * look-alikes (O→0, I/L→1). A wrong check character is reported, not silently searched.
 */
function parsePatientRef(input) {
    const compact = input.trim().toUpperCase().replace(/[\s-]/g, '');
    if (!compact.startsWith(exports.REF_PREFIX))
        return { ok: false, reason: 'format' };
    const body = compact.slice(exports.REF_PREFIX.length).replace(/O/g, '0').replace(/[IL]/g, '1');
    if (body.length !== RANDOM_CHARS + 1 || [...body].some((c) => !ALPHABET.includes(c)))
        return { ok: false, reason: 'format' };
    const payload = body.slice(0, RANDOM_CHARS);
    if (checkCharacter(payload) !== body[RANDOM_CHARS])
        return { ok: false, reason: 'check' };
    return { ok: true, ref: `${exports.REF_PREFIX}-${body.slice(0, 4)}-${body.slice(4)}` };
}
//# sourceMappingURL=ref.js.map