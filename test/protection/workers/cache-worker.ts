/**
 * One application instance for the multi-process tests, driven over stdin/stdout with one
 * JSON object per line. Started with WORKER_CONFIG = { redisUrl, namespace, lock? }.
 *
 * Commands: { cmd: 'stampede', key, callers, counter, delay } runs `callers` concurrent
 * getOrLoad calls of one key; { cmd: 'hang', key, counter } starts a load that never ends;
 * { cmd: 'load', key, counter } runs one getOrLoad. Every loader INCRs `counter` in Redis,
 * so the test counts loader runs across processes.
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCache } from '../../support/app';
import { openRawRedis } from '../../support/redis-client';

interface Command {
  cmd: 'stampede' | 'hang' | 'load' | 'exit';
  key: string;
  counter: string;
  callers?: number;
  delay?: number;
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}');
const label = `worker-${process.pid}`;

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const raw = await openRawRedis(config.redisUrl);
  const { cache, close } = await startCache({
    namespace: config.namespace,
    distributed: { driver: 'redis', url: config.redisUrl, commandTimeout: '2s' },
    ...(config.lock === undefined ? {} : { lock: config.lock }),
  });

  const loaderOf =
    (command: Command, hang = false) =>
    async () => {
      await raw.incr(command.counter);
      if (hang) {
        send({ event: 'loading' });
        await new Promise(() => undefined);
      }
      await sleep(command.delay ?? 0);
      return { loadedBy: label };
    };

  const handle = async (command: Command) => {
    if (command.cmd === 'exit') {
      await close();
      await raw.close();
      process.exit(0);
    }
    if (command.cmd === 'hang') {
      void cache.getOrLoad(command.key, loaderOf(command, true));
      return;
    }

    const callers = command.cmd === 'stampede' ? (command.callers ?? 1) : 1;
    send({ event: 'calling' });
    const settled = await Promise.allSettled(
      Array.from({ length: callers }, () => cache.getOrLoad(command.key, loaderOf(command))),
    );
    const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    send({ event: 'done', label, values, errors, stats: cache.stats() });
  };

  createInterface({ input: process.stdin }).on('line', (line) => {
    handle(JSON.parse(line)).catch((error) => send({ event: 'failed', error: String(error) }));
  });
  send({ event: 'ready', label });
}

main().catch((error) => {
  send({ event: 'failed', error: String(error) });
  process.exit(1);
});
