import { Body, Controller, Get, NotFoundException, Param, Put } from '@nestjs/common';
import { ImCacheService } from '../src';
import { ProfileStore, type Profile } from './profile.store';

/** Generic cache-aside over HTTP: profiles read through both cache levels. */
@Controller('profiles')
export class ProfileController {
  constructor(
    private readonly cache: ImCacheService,
    private readonly store: ProfileStore,
  ) {}

  @Get(':id')
  async get(@Param('id') id: string): Promise<Profile> {
    const profile = await this.cache.getOrLoad(`profile:${id}`, () => this.store.find(id), {
      ttl: '5m',
    });
    if (profile === undefined) throw new NotFoundException(`no profile ${id}`);
    return profile;
  }

  @Put(':id')
  async update(@Param('id') id: string, @Body() body: { nickname?: string }): Promise<Profile> {
    const profile = this.store.save(id, body.nickname ?? id);
    await this.cache.set(`profile:${id}`, profile, { ttl: '5m' });
    return profile;
  }

  @Get()
  stats() {
    return { databaseReads: this.store.reads, cache: this.cache.stats() };
  }
}
