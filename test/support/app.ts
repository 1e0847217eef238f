import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheModule, ImCacheService, type CacheModuleOptions } from '../../src';

/** A started Nest application context holding one `CacheModule`. */
export interface TestCache {
  app: INestApplicationContext;
  cache: ImCacheService;
  close(): Promise<void>;
}

/** Starts a module the way a user would (`CacheModule.forRoot`) and returns its service. */
export async function startCache(options: CacheModuleOptions): Promise<TestCache> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot(options)],
  }).compile();
  const app = await moduleRef.init();
  return { app, cache: app.get(ImCacheService), close: () => app.close() };
}

/** A logger that keeps what it is told, for asserting that failures are reported. */
export class MemoryLogger {
  readonly lines: { level: string; message: string }[] = [];
  log = (message: string) => this.lines.push({ level: 'log', message });
  warn = (message: string) => this.lines.push({ level: 'warn', message });
  error = (message: string) => this.lines.push({ level: 'error', message });
  debug = (message: string) => this.lines.push({ level: 'debug', message });
  verbose = (message: string) => this.lines.push({ level: 'verbose', message });
}
