import { LruLocalCache } from '../../src/local/lru.local-cache';
import { NoneLocalCache } from '../../src/local/none.local-cache';
import { localCacheContract } from './local-cache.contract';

localCacheContract('lru', (settings) => new LruLocalCache(settings));
localCacheContract('none', () => new NoneLocalCache(), { storesNothing: true });
