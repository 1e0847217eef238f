import { presenceContract } from './contract/presence.contract';
import { routesContract } from './contract/routes.contract';
import { redisCoherentBackend } from './support/fixture';

// Routes and presence with the module's defaults on Redis: the invalidation bus is on, so
// reads go through the coherent L1 of user records (src/coherence/coherent-route-store.ts).
routesContract(redisCoherentBackend);
presenceContract(redisCoherentBackend);
