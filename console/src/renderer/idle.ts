/**
 * Locks the console session after a period without user activity (ISSP
 * 9.11.7 asks sessions to lock when idle). Timers and the clock are injected
 * so the behaviour is tested without waiting.
 */
export interface IdleTimerOptions {
  timeoutMs: number;
  onIdle: () => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface IdleTimer {
  /** Call on user activity. Cheap: it only records the time. */
  activity(): void;
  stop(): void;
}

export function createIdleTimer(opts: IdleTimerOptions): IdleTimer {
  const now = opts.now ?? (() => Date.now());
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let last = now();
  let stopped = false;
  let handle: unknown = null;

  const check = () => {
    if (stopped) return;
    const idleFor = now() - last;
    if (idleFor >= opts.timeoutMs) {
      stopped = true;
      opts.onIdle();
      return;
    }
    // Wake when the remaining time runs out, not on every activity.
    handle = setTimer(check, opts.timeoutMs - idleFor);
  };
  handle = setTimer(check, opts.timeoutMs);

  return {
    activity() {
      last = now();
    },
    stop() {
      stopped = true;
      if (handle !== null) clearTimer(handle);
    },
  };
}

export const activityEvents = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;
