import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CacheModuleOptions } from './options/cache-options.interface';

/**
 * `forRoot(options)` and `forRootAsync({ imports, inject, useFactory | useClass |
 * useExisting })`, with `isGlobal` as an extra that makes the module global.
 */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** What `CacheModule.forRootAsync()` accepts. */
export type CacheModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
