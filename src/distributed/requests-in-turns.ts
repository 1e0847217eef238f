/**
 * Sends the requests of a large batch one event-loop turn apart.
 *
 * `count` positions are split into `ceil(count / max)` runs of even size, and `send(start,
 * end)` is called for each run on its own turn (`setImmediate`), so each request leaves as its
 * own socket write and Redis answers it on its own: the process handles one reply while
 * Redis serves the next, where one big request makes them take turns. Once a request has
 * failed no further one is sent.
 *
 * @param send sends the run `[start, end)` and resolves once its reply is handled
 * @returns once every request sent is handled; rejects with the first failure
 */
export async function sendInTurns(
  count: number,
  max: number,
  send: (start: number, end: number) => Promise<void>,
): Promise<void> {
  const size = Math.ceil(count / Math.ceil(count / max));
  const sent: Promise<void>[] = [];
  let failed = false;
  for (let start = 0; start < count; start += size) {
    if (start > 0) {
      await nextTurn();
      if (failed) break;
    }
    const request = send(start, Math.min(start + size, count));
    // Awaited below; until then a failure must not count as unhandled.
    request.catch(() => {
      failed = true;
    });
    sent.push(request);
  }
  await Promise.all(sent);
}

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
