import assert from 'node:assert/strict';
import { after, afterEach } from 'node:test';

/**
 * Makes every test of the calling file fail when a promise rejection went unhandled while it
 * ran: a failure path that leaks a rejection is a defect even when the call itself behaved.
 * Call once at the top level of a test file.
 */
export function failOnUnhandledRejections(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  afterEach(() => assert.deepEqual(unhandled.splice(0), [], 'an unhandled rejection escaped'));
  after(() => process.off('unhandledRejection', onUnhandled));
}
