import { RedisReplyError, RespParser } from './edge-redis';

function all(p: RespParser): unknown[] {
  const out: unknown[] = [];
  for (let r = p.next(); r !== undefined; r = p.next()) out.push(r);
  return out;
}

describe('RespParser', () => {
  it('reads every RESP2 reply type', () => {
    const p = new RespParser();
    p.push(Buffer.from('+PONG\r\n-NOSCRIPT No matching script\r\n:42\r\n$4\r\nhé!\r\n$-1\r\n*2\r\n:0\r\n:-7\r\n*0\r\n'));
    const got = all(p);
    expect(got[0]).toBe('PONG');
    expect(got[1]).toBeInstanceOf(RedisReplyError);
    expect((got[1] as Error).message).toBe('NOSCRIPT No matching script');
    expect(got.slice(2)).toEqual([42, 'hé!', null, [0, -7], []]);
  });

  it('waits for a reply split anywhere, one byte at a time, and keeps the order', () => {
    const bytes = Buffer.from('*2\r\n:1\r\n$3\r\nabc\r\n+OK\r\n*2\r\n:-1\r\n:0\r\n');
    const p = new RespParser();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i++) {
      p.push(bytes.subarray(i, i + 1));
      got.push(...all(p));
    }
    expect(got).toEqual([[1, 'abc'], 'OK', [-1, 0]]);
  });

  it('refuses a stream it cannot read instead of guessing', () => {
    const p = new RespParser();
    p.push(Buffer.from('?what\r\n'));
    expect(() => p.next()).toThrow(/unexpected RESP type/);
  });
});
