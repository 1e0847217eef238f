import { Injectable } from '@nestjs/common';

/** A user profile as the demo's "database" holds it. */
export interface Profile {
  userId: string;
  nickname: string;
  avatar: string;
  updatedAt: number;
}

/**
 * Stands in for a database: every read takes 20 ms and is counted, so the demo shows how
 * many reads the cache saved.
 */
@Injectable()
export class ProfileStore {
  readonly #rows = new Map<string, Profile>();
  reads = 0;

  constructor() {
    for (let i = 1; i <= 100; i++) this.save(`u${i}`, `user ${i}`);
  }

  async find(userId: string): Promise<Profile | undefined> {
    this.reads++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return this.#rows.get(userId);
  }

  remove(userId: string): void {
    this.#rows.delete(userId);
  }

  save(userId: string, nickname: string): Profile {
    const profile = { userId, nickname, avatar: `/avatars/${userId}.png`, updatedAt: Date.now() };
    this.#rows.set(userId, profile);
    return profile;
  }
}
