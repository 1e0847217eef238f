import { Module } from '@nestjs/common';
import { CacheModule } from '../src';
import { ImDemoController } from './im.controller';
import { ProfileController } from './profile.controller';
import { ProfileService } from './profile.service';
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
  controllers: [ProfileController, ImDemoController],
  providers: [ProfileStore, ProfileService],
})
export class AppModule {}
