import { passwordWeakness } from './passwords';

describe('password policy', () => {
  it('refuses short passwords', () => {
    expect(passwordWeakness('k9#mQ2!vLp8')).toMatch(/12/);
  });
  it.each(['password1234', 'Password123!', 'qwertyuiop12', 'aaaaaaaaaaaa', '123456789012'])('refuses the common password %s', (p) => {
    expect(passwordWeakness(p)).toMatch(/common/);
  });
  it('accepts a long random passphrase', () => {
    expect(passwordWeakness('correct horse battery staple')).toBeUndefined();
    expect(passwordWeakness('k9#mQ2!vLp8z')).toBeUndefined();
  });
});
