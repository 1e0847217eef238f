import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CacheModule, ImCacheService, type CacheModuleOptions } from '../../src';

/** A started Nest application context holding one `CacheModule`, as an application has it. */
export interface StartedCache {
  app: INestApplicationContext;
  cache: ImCacheService;
  close(): Promise<void>;
}

/**
 * Starts the real module (`CacheModule.forRoot` in a Nest application context) with
 * `options` on top of the defaults, so what is measured is what a user gets: jitter on,
 * validation done, the drivers the options name.
 */
export async function startImCache(options: CacheModuleOptions): Promise<StartedCache> {
  const app = await NestFactory.createApplicationContext(CacheModule.forRoot(options), {
    logger: false,
    abortOnError: false,
  });
  return { app, cache: app.get(ImCacheService), close: () => app.close() };
}
