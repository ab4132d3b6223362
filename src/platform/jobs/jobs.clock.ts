/** Time as the job queue sees it: injectable so tests can move it forward instead of sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

export interface FakeClock extends Clock {
  set(at: Date | number): void
  advance(ms: number): void
}

export function createFakeClock(start: Date | number = Date.now()): FakeClock {
  let t = typeof start === 'number' ? start : start.getTime()
  return {
    now: () => new Date(t),
    set(at) {
      t = typeof at === 'number' ? at : at.getTime()
    },
    advance(ms) {
      t += ms
    },
  }
}
