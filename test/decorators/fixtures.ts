import {
  Controller,
  Get,
  Injectable,
  Param,
  Scope,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Cacheable, CacheEvict, CachePut } from '../../src';

export const ROLE = 'test:role';
export const TAG = 'test:tag';
export const ON_EVENT = 'test:on-event';

/** Stand-ins for other libraries' method decorators, which record metadata only. */
export const Role = (role: string) => SetMetadata(ROLE, role);
export const Tag = (tag: string) => SetMetadata(TAG, tag);
export const OnEvent = (event: string) => SetMetadata(ON_EVENT, event);

export interface Profile {
  id: string;
  name: string;
}

/** The "database": counts its reads, can be held or made to fail. */
@Injectable()
export class ProfileStore {
  readonly rows = new Map<string, Profile>([['1', { id: '1', name: 'ann' }]]);
  reads = 0;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  async find(id: string): Promise<Profile | null> {
    this.reads++;
    await this.#gate;
    if (id === 'boom') throw new Error(`cannot read ${id}`);
    return this.rows.get(id) ?? null;
  }

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }
}

@Injectable()
export class ProfileService {
  /** Set per application, to show which instance `this` is. */
  label = 'unset';

  constructor(readonly store: ProfileStore) {}

  @Role('reader')
  @Cacheable({ key: 'profile:{id}', ttl: '1m' })
  @Tag('inner')
  async find(id: string): Promise<Profile | null> {
    return this.store.find(id);
  }

  @Cacheable({ key: (id: string) => (id === 'blank' ? '' : `raw:${id}`) })
  async findRaw(id: string): Promise<Profile | null> {
    return this.store.find(id);
  }

  @Cacheable({ key: 'whoami' })
  async whoAmI(): Promise<string> {
    return this.label;
  }

  @CachePut({ key: 'profile:{profile.id}' })
  async save(profile: Profile): Promise<Profile> {
    this.store.rows.set(profile.id, profile);
    return profile;
  }

  @CachePut({ key: 'profile:{id}' })
  async erase(id: string): Promise<null> {
    this.store.rows.delete(id);
    return null;
  }

  @CacheEvict({ key: ['profile:{id}', 'raw:{id}'] })
  async remove(id: string): Promise<void> {
    if (id === 'locked') throw new Error('cannot remove a locked profile');
    this.store.rows.delete(id);
  }

  @CacheEvict({ key: 'profile:{0}', beforeInvocation: true })
  async removeThenFail(id: string): Promise<void> {
    throw new Error(`failed after evicting ${id}`);
  }

  @CachePut({ key: 'profile:{profile.id}' })
  @CacheEvict({ key: 'profiles:all' })
  async rename(profile: Profile): Promise<Profile> {
    this.store.rows.set(profile.id, profile);
    return profile;
  }

  @OnEvent('profile.requested')
  @Cacheable({ key: 'event:{0}' })
  async onRequested(id: string): Promise<Profile | null> {
    return this.store.find(id);
  }
}

/**
 * A miniature `@nestjs/event-emitter`: at bootstrap it finds methods carrying ON_EVENT on
 * every provider instance and binds `instance[method]`, as the real explorer does.
 */
@Injectable()
export class MiniEventBus implements OnApplicationBootstrap {
  readonly #handlers = new Map<string, ((...args: unknown[]) => unknown)[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      for (const name of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const event = Reflect.getMetadata(ON_EVENT, instance[name]);
        if (event === undefined) continue;
        const list = this.#handlers.get(event) ?? [];
        list.push(instance[name].bind(instance));
        this.#handlers.set(event, list);
      }
    }
  }

  emit(event: string, ...args: unknown[]): Promise<unknown[]> {
    return Promise.all((this.#handlers.get(event) ?? []).map((handler) => handler(...args)));
  }
}

/** Counts its calls and records the handler metadata it saw. */
@Injectable()
export class CountingGuard implements CanActivate {
  static calls = 0;
  static seenRoles: unknown[] = [];

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    CountingGuard.calls++;
    CountingGuard.seenRoles.push(this.reflector.get(ROLE, context.getHandler()));
    return true;
  }
}

@Controller('profiles')
export class ProfileController {
  served = 0;

  constructor(private readonly profiles: ProfileService) {}

  @Get(':id')
  @UseGuards(CountingGuard)
  @Role('http-reader')
  @Cacheable({ key: 'http:profile:{id}' })
  async get(@Param('id') id: string): Promise<Profile | null> {
    this.served++;
    return this.profiles.find(id);
  }
}

/** A request-scoped provider: a new instance per request, caching shared by key. */
@Injectable({ scope: Scope.REQUEST })
export class RequestScopedReader {
  constructor(readonly store: ProfileStore) {}

  @Cacheable({ key: 'scoped:{0}' })
  async read(id: string): Promise<Profile | null> {
    return this.store.find(id);
  }
}

/** Provided through a factory: found by the explorer through its instance only. */
export class FactoryMade {
  calls = 0;

  @Cacheable({ key: 'factory:{0}' })
  async compute(n: number): Promise<number> {
    this.calls++;
    return n * 2;
  }
}
