import { Body, Controller, Delete, Get, NotFoundException, Param, Put } from '@nestjs/common';
import { ImCacheService } from '../src';
import { ProfileService } from './profile.service';
import { ProfileStore, type Profile } from './profile.store';

/** Generic cache-aside over HTTP: profiles read through both cache levels. */
@Controller('profiles')
export class ProfileController {
  constructor(
    private readonly profiles: ProfileService,
    private readonly cache: ImCacheService,
    private readonly store: ProfileStore,
  ) {}

  @Get(':id')
  async get(@Param('id') id: string): Promise<Profile> {
    const profile = await this.profiles.find(id);
    if (profile === undefined) throw new NotFoundException(`no profile ${id}`);
    return profile;
  }

  @Put(':id')
  update(@Param('id') id: string, @Body() body: { nickname?: string }): Promise<Profile> {
    return this.profiles.rename(id, body.nickname ?? id);
  }

  @Delete(':id')
  remove(@Param('id') id: string): Promise<void> {
    return this.profiles.remove(id);
  }

  @Get()
  stats() {
    return { databaseReads: this.store.reads, cache: this.cache.stats() };
  }
}
