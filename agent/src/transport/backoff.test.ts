import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('draws uniformly below an exponential ceiling (full jitter)', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, { random: () => 0 })).toBe(0);
    expect(backoffDelay(0, { random: top })).toBe(999);
    expect(backoffDelay(1, { random: top })).toBe(1999);
    expect(backoffDelay(3, { random: top })).toBe(7999);
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(4000);
  });

  it('never exceeds the 5-minute cap, however many attempts', () => {
    const top = () => 0.999999;
    expect(backoffDelay(9, { random: top })).toBe(299_999);
    expect(backoffDelay(10_000, { random: top })).toBe(299_999);
    expect(backoffDelay(20, { random: () => 0.25 })).toBe(75_000);
  });

  it('stays within [0, ceiling) for random draws', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let attempt = 0; attempt < 30; attempt++) {
      const d = backoffDelay(attempt, { random, baseMs: 100, capMs: 10_000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(10_000, 100 * 2 ** attempt));
    }
  });
});
