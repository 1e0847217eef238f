import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn', 'log'] });
  app.enableShutdownHooks();

  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');

  const l2 = process.env.REDIS_URL ? `redis (${process.env.REDIS_URL})` : 'embedded memory';
  const url = `http://127.0.0.1:${port}`;
  new Logger('Demo').log(`nest-im-cache demo listening on ${url} (L2: ${l2})`);
  new Logger('Demo').log(`try: curl ${url}/profiles/u1  then  curl ${url}/profiles`);
}

main().catch((error) => {
  new Logger('Demo').error(error);
  process.exit(1);
});
