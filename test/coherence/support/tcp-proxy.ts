import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis, able to black-hole chosen connections: their bytes stop
 * flowing in both directions while both sockets stay open, as with a half-open connection
 * behind a failed network device. Nothing else in a test machine produces a connection that
 * is silently dead, which is what heartbeats exist to notice.
 */
export interface TcpProxy {
  url: string;
  /** Black-holes every open connection whose client sent `marker` (e.g. a CLIENT SETNAME). */
  blackHole(marker: string): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  sent: string;
  dead: boolean;
}

/** Starts a proxy on a free port forwarding to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, upstream, sent: '', dead: false };
    pairs.add(pair);

    client.on('data', (chunk) => {
      if (pair.sent.length < 4096) pair.sent += chunk.toString('latin1');
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;

  return {
    url: `redis://127.0.0.1:${port}`,
    blackHole: (marker) => {
      let count = 0;
      for (const pair of pairs) {
        if (!pair.dead && pair.sent.includes(marker)) {
          pair.dead = true;
          count++;
        }
      }
      return count;
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
