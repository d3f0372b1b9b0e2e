import { LiveHub } from './live';

describe('LiveHub: status changes for connected agents', () => {
  it("calls the device's agents once per window, leaves other devices alone, and stops after unwatch", () => {
    jest.useFakeTimers();
    try {
      const hub = new LiveHub(250);
      const calls: string[] = [];
      const unwatchA = hub.watchDevice('a', () => calls.push('a1'));
      hub.watchDevice('a', () => calls.push('a2'));
      hub.watchDevice('b', () => calls.push('b'));
      hub.deviceStatusChanged('a');
      hub.deviceStatusChanged('a');
      hub.deviceStatusChanged('nobody');
      expect(calls).toEqual([]);
      jest.advanceTimersByTime(250);
      expect(calls).toEqual(['a1', 'a2']);
      unwatchA();
      hub.deviceStatusChanged('a');
      jest.advanceTimersByTime(250);
      expect(calls).toEqual(['a1', 'a2', 'a2']);
    } finally {
      jest.useRealTimers();
    }
  });
});
