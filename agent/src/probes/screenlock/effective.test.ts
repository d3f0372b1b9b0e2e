import { effectiveLock, type LockMechanism } from './effective';

const m = (source: string, idleSeconds: number, graceSeconds: number, locks: boolean | null): LockMechanism => ({
  source,
  idleSeconds,
  graceSeconds,
  locks,
});

describe('effectiveLock', () => {
  it('takes the mechanism that locks first, counting its grace', () => {
    expect(effectiveLock([m('a', 300, 600, true), m('b', 600, 5, true)], 'alice')).toEqual({
      enabled: true,
      idleSeconds: 600,
      graceSeconds: 5,
      requirePassword: true,
      source: 'b',
      user: 'alice',
    });
  });

  it('ignores a sooner mechanism that asks for no password', () => {
    const section = effectiveLock([m('saver', 60, 0, false), m('policy', 900, 0, true)], null);
    expect(section).toMatchObject({ enabled: true, idleSeconds: 900, source: 'policy' });
  });

  it('ignores a locking mechanism that never starts (0 = never)', () => {
    const section = effectiveLock([m('off', 0, 0, true), m('saver', 120, 0, false)], null);
    expect(section).toEqual({
      enabled: false,
      idleSeconds: 120,
      graceSeconds: null,
      requirePassword: true,
      source: 'saver',
      user: null,
    });
  });

  it('reports never (0) when nothing starts', () => {
    expect(effectiveLock([m('gsettings', 0, 0, false)], null)).toMatchObject({ enabled: false, idleSeconds: 0, requirePassword: false });
  });

  it('does not guess when the only candidate may or may not lock', () => {
    expect(effectiveLock([m('display', 600, 0, null), m('saver', 300, 0, false)], null)).toEqual({
      enabled: null,
      idleSeconds: 600,
      graceSeconds: null,
      requirePassword: null,
      source: 'display',
      user: null,
    });
  });

  it('prefers a known lock over an unknown one', () => {
    expect(effectiveLock([m('display', 60, 0, null), m('policy', 900, 0, true)], null)).toMatchObject({
      enabled: true,
      idleSeconds: 900,
      source: 'policy',
    });
  });

  it('is unknown with nothing to judge', () => {
    expect(effectiveLock([], null)).toEqual({ unknown: true, reason: 'no screen-lock setting could be read' });
  });
});
