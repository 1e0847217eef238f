import { presenceContract } from './contract/presence.contract';
import { readCursorsContract } from './contract/read-cursors.contract';
import { routesContract } from './contract/routes.contract';
import { videoSessionsContract } from './contract/video-sessions.contract';
import { redisBackend } from './support/fixture';

routesContract(redisBackend);
presenceContract(redisBackend);
readCursorsContract(redisBackend);
videoSessionsContract(redisBackend);
