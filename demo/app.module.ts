import { Module } from '@nestjs/common';
import { CacheModule } from '../src';
import { ProfileController } from './profile.controller';
import { ProfileStore } from './profile.store';

/**
 * The demo application: the embedded memory L2 when REDIS_URL is unset, Redis when it is set.
 */
@Module({
  imports: [
    CacheModule.forRootAsync({
      isGlobal: true,
      useFactory: () => ({
        namespace: 'demo',
        distributed: process.env.REDIS_URL
          ? { driver: 'redis', url: process.env.REDIS_URL }
          : { driver: 'memory' },
      }),
    }),
  ],
  controllers: [ProfileController],
  providers: [ProfileStore],
})
export class AppModule {}
