import { Injectable } from '@nestjs/common';
import { Cacheable, CacheEvict, CachePut } from '../src';
import { ProfileStore, type Profile } from './profile.store';

/** Profiles with cache-aside by decorators: no cache code in the method bodies. */
@Injectable()
export class ProfileService {
  constructor(private readonly store: ProfileStore) {}

  @Cacheable({ key: 'profile:{userId}', ttl: '5m' })
  async find(userId: string): Promise<Profile | undefined> {
    return this.store.find(userId);
  }

  @CachePut({ key: 'profile:{userId}', ttl: '5m' })
  async rename(userId: string, nickname: string): Promise<Profile> {
    return this.store.save(userId, nickname);
  }

  @CacheEvict({ key: 'profile:{userId}' })
  async remove(userId: string): Promise<void> {
    this.store.remove(userId);
  }
}
