/**
 * `Date.now()` read at most once per `resolution` milliseconds: the first call reads the
 * clock and later calls reuse that reading until a timer (unref'd, so it never keeps the
 * process alive) clears it. An L1 hit then costs a field read instead of a clock call.
 *
 * The reading can lag behind real time by the resolution plus however long the event loop
 * is blocked, since the timer cannot fire meanwhile; for TTLs of seconds or more that error
 * is immaterial. A clock given in the options (tests) is always read directly.
 */
export function coarseClock(resolution = 1): () => number {
  let reading = 0;
  const forget = () => {
    reading = 0;
  };

  return () => {
    if (reading !== 0) return reading;
    reading = Date.now();
    setTimeout(forget, resolution).unref();
    return reading;
  };
}
