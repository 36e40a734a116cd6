import { TrustedProxies, clientIp, clientIpKey, normaliseIp } from './client-ip';

const req = (peer: string | undefined, xff?: string | string[]) =>
  ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;

describe('TrustedProxies', () => {
  it('parses IPs and CIDRs, and names every bad entry', () => {
    const t = TrustedProxies.parse('10.0.0.0/8, 192.168.1.7, fd00::/8');
    expect(t.trusts('10.1.2.3')).toBe(true);
    expect(t.trusts('192.168.1.7')).toBe(true);
    expect(t.trusts('192.168.1.8')).toBe(false);
    expect(t.trusts('fd12::1')).toBe(true);
    expect(t.trusts('::ffff:10.9.9.9')).toBe(true);
    expect(() => TrustedProxies.parse('10.0.0.0/33, loopback, 1.2.3.4')).toThrow(/10\.0\.0\.0\/33.*loopback/);
    expect(TrustedProxies.parse('').trusts('127.0.0.1')).toBe(false);
  });
});

describe('clientIp', () => {
  const gateway = TrustedProxies.parse('127.0.0.1,::1');

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientIp(req('203.0.113.9', '1.2.3.4'), gateway)).toBe('203.0.113.9');
    expect(clientIp(req('127.0.0.1', '1.2.3.4'), TrustedProxies.none)).toBe('127.0.0.1');
  });

  it('believes a trusted proxy, taking the rightmost address that is not itself trusted', () => {
    expect(clientIp(req('::ffff:127.0.0.1', '1.2.3.4'), gateway)).toBe('1.2.3.4');
    // The client made up the left part; the trusted proxy appended what it saw.
    expect(clientIp(req('127.0.0.1', '6.6.6.6, 1.2.3.4'), gateway)).toBe('1.2.3.4');
    const chain = TrustedProxies.parse('127.0.0.1, 10.0.0.0/8');
    expect(clientIp(req('127.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.5'), chain)).toBe('1.2.3.4');
    expect(clientIp(req('127.0.0.1', ['1.2.3.4', '10.0.0.5']), chain)).toBe('1.2.3.4');
  });

  it('never returns header text: an entry that is not an IP ends the walk at the hop that sent it', () => {
    expect(clientIp(req('127.0.0.1', '<script>alert(1)</script>'), gateway)).toBe('127.0.0.1');
    expect(clientIp(req('127.0.0.1', 'x'.repeat(4096)), gateway)).toBe('127.0.0.1');
    expect(clientIp(req('127.0.0.1', '1.2.3.4, garbage'), gateway)).toBe('127.0.0.1');
    expect(clientIp(req('127.0.0.1', ''), gateway)).toBe('127.0.0.1');
    expect(clientIp(req(undefined, '1.2.3.4'), gateway)).toBe('unknown');
  });

  it('normalises addresses', () => {
    expect(normaliseIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(normaliseIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normaliseIp('[::1]')).toBe('::1');
    expect(normaliseIp('1.2.3.4:80')).toBeUndefined();
    expect(normaliseIp('fe80::1%eth0')).toBeUndefined();
    expect(clientIp(req('127.0.0.1', '2001:DB8::0:1'), gateway)).toBe('2001:db8::1');
  });
});

describe('clientIpKey', () => {
  it('is a fixed-length hash, the same for every spelling of one address', () => {
    expect(clientIpKey('2001:DB8::0:1')).toBe(clientIpKey('2001:db8::1'));
    expect(clientIpKey('1.2.3.4')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(clientIpKey('<script>')).toBe(clientIpKey('unknown'));
  });
});
