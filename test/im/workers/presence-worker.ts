/**
 * A second application instance in its own process, for the cross-process presence tests.
 * Started with IM_WORKER = { redisUrl, namespace }; prints one JSON object per line on
 * stdout: { event: 'ready' } once subscribed, { event: 'change', change } for every presence
 * change it hears, { event: 'done', id, result } after each command. Commands arrive on
 * stdin as JSON lines: { id, cmd: 'bind', route }, { id, cmd: 'setStatus', userId, status },
 * { id, cmd: 'exit' }.
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { startCache } from '../../support/app';

const config = JSON.parse(process.env.IM_WORKER ?? '{}');

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const { cache, close } = await startCache({
    namespace: config.namespace,
    distributed: { driver: 'redis', url: config.redisUrl, commandTimeout: '5s' },
    coherence: false,
  });
  const subscription = cache.onlineStatus.onChange((change) => send({ event: 'change', change }));
  await subscription.ready;
  send({ event: 'ready' });

  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    if (command.cmd === 'exit') break;
    let result: unknown;
    if (command.cmd === 'bind') result = await cache.routes.bind(command.route);
    if (command.cmd === 'setStatus') {
      result = await cache.onlineStatus.setStatus(command.userId, command.status);
    }
    send({ event: 'done', id: command.id, result: result ?? null });
  }
  await close();
}

main().catch((error) => {
  send({ event: 'failed', message: String(error?.stack ?? error) });
  process.exit(1);
});
