import { checkCharacter, newPatientRef, parsePatientRef } from './ref';

describe('patient ref', () => {
  it('looks like PX-XXXX-XXXX and validates its own check character', () => {
    for (let i = 0; i < 500; i++) {
      const ref = newPatientRef();
      expect(ref).toMatch(/^PX-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      expect(parsePatientRef(ref)).toEqual({ ok: true, ref });
    }
  });

  it('is random: 2000 refs are all different', () => {
    const refs = new Set(Array.from({ length: 2000 }, newPatientRef));
    expect(refs.size).toBe(2000);
  });

  it('accepts lower case, no dashes and Crockford look-alikes', () => {
    const payload = '0K3M1Q2';
    const ref = `PX-${payload.slice(0, 4)}-${payload.slice(4)}${checkCharacter(payload)}`;
    expect(parsePatientRef(ref.toLowerCase())).toEqual({ ok: true, ref });
    expect(parsePatientRef(ref.replace(/-/g, ''))).toEqual({ ok: true, ref });
    expect(parsePatientRef(ref.replace('0', 'O').replace('1', 'l'))).toEqual({ ok: true, ref });
  });

  it('detects every single-character substitution and adjacent transposition', () => {
    const ref = newPatientRef();
    const body = ref.replace(/^PX-/, '').replace('-', '');
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    for (let i = 0; i < body.length; i++) {
      for (const c of alphabet) {
        if (c === body[i]) continue;
        const typo = body.slice(0, i) + c + body.slice(i + 1);
        expect(parsePatientRef(`PX${typo}`).ok).toBe(false);
      }
    }
    for (let i = 0; i < body.length - 1; i++) {
      if (body[i] === body[i + 1]) continue;
      const swapped = body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2);
      const parsed = parsePatientRef(`PX${swapped}`);
      // Luhn mod N misses only the swap of the two symbols whose values are 0 and N-1.
      if (!(new Set([body[i], body[i + 1]]).has('0') && new Set([body[i], body[i + 1]]).has('Z'))) expect(parsed.ok).toBe(false);
    }
  });

  it('refuses other shapes', () => {
    for (const bad of ['', 'PX-', 'AB-1234-5678', 'PX-1234-567', 'PX-1234-56789', 'PX-12U4-5678', '$ne']) {
      expect(parsePatientRef(bad)).toEqual({ ok: false, reason: 'format' });
    }
  });
});
