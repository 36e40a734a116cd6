import { capturingLogger } from '@praxis/testing';
import { redact, scrubString } from './redact';

describe('log redaction', () => {
  it('removes names, emails, phones, addresses, tokens and codes at any depth', () => {
    const out = redact({
      patient: { givenName: 'Ada', family_name: 'Lovelace', address: { line1: '1 Way', postcode: 'N1 1AA' } },
      nested: [{ deeper: { email: 'ada@example.com', mobile: '+447700900123' } }],
      auth: { password: 'hunter22hunter22', refreshToken: 'abc', code: '123456', recoveryCodes: ['a', 'b'] },
      patientId: 'pat_123',
      subject: { patientId: 'pat_123' },
    });
    const text = JSON.stringify(out);
    for (const secret of ['Ada', 'Lovelace', '1 Way', 'N1 1AA', 'ada@example.com', '+447700900123', 'hunter22', '123456']) {
      expect(text).not.toContain(secret);
    }
    // Ids are not identifying and stay, so logs remain useful.
    expect(text).toContain('pat_123');
  });

  it('scrubs emails, phone numbers and JWTs inside free text', () => {
    const s = scrubString('mail ada@example.com or call +447700900123 with Bearer eyJhbGciOi.eyJzdWIiOiIx.c2ln');
    expect(s).not.toMatch(/ada@example\.com|\+447700900123|eyJhbGciOi/);
  });

  it('keeps identifying data out of real log lines, message text included', () => {
    const { logger, lines } = capturingLogger();
    logger.info(
      { req: { body: { familyName: 'Lovelace', email: 'ada@example.com' } }, token: 'secret-token' },
      'created for ada@example.com',
    );
    logger.error({ err: new Error('duplicate email ada@example.com') }, 'failed');
    const all = lines().join('\n');
    expect(lines()).toHaveLength(2);
    expect(all).not.toMatch(/Lovelace|ada@example\.com|secret-token/);
  });
});
