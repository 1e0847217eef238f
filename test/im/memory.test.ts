import { presenceContract } from './contract/presence.contract';
import { readCursorsContract } from './contract/read-cursors.contract';
import { routesContract } from './contract/routes.contract';
import { videoSessionsContract } from './contract/video-sessions.contract';
import { memoryBackend } from './support/fixture';

routesContract(memoryBackend);
presenceContract(memoryBackend);
readCursorsContract(memoryBackend);
videoSessionsContract(memoryBackend);
