import { createIdleTimer } from './idle';
import { backoffMs, liveUrl, parseLiveMessage } from './live';

describe('idle lock (ISSP 9.11.7)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('locks after the timeout without activity', () => {
    const onIdle = jest.fn();
    createIdleTimer({ timeoutMs: 900_000, onIdle });
    jest.advanceTimersByTime(899_999);
    expect(onIdle).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(10_000_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('counts from the last activity', () => {
    const onIdle = jest.fn();
    const timer = createIdleTimer({ timeoutMs: 60_000, onIdle });
    jest.advanceTimersByTime(50_000);
    timer.activity();
    jest.advanceTimersByTime(50_000);
    expect(onIdle).not.toHaveBeenCalled();
    jest.advanceTimersByTime(10_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('does nothing once stopped', () => {
    const onIdle = jest.fn();
    createIdleTimer({ timeoutMs: 1000, onIdle }).stop();
    jest.advanceTimersByTime(5000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});

describe('live updates', () => {
  it('connects to the page’s origin in a browser, to the collector in the desktop app', () => {
    expect(liveUrl(null, { protocol: 'https:', host: 'vigie.example' })).toBe('wss://vigie.example/api/v1/live');
    expect(liveUrl('https://collector.example:8443/vigie', { protocol: 'app:', host: 'vigie' })).toBe('wss://collector.example:8443/vigie/api/v1/live');
  });

  it('accepts only the message types of the contract', () => {
    expect(parseLiveMessage('{"type":"summary-changed"}')).toEqual({ type: 'summary-changed' });
    expect(parseLiveMessage('{"type":"rm -rf"}')).toBeNull();
    expect(parseLiveMessage('not json')).toBeNull();
    expect(parseLiveMessage(new ArrayBuffer(2))).toBeNull();
  });

  it('backs off up to 30 s', () => {
    expect([0, 1, 2, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 30000]);
  });
});
