import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  InvalidArgumentError,
  InvalidMessageIdError,
  NotInSessionError,
  OnlineStatusRepository,
  ReadCursorRepository,
  RouteRepository,
  SessionExistsError,
  SessionNotFoundError,
  UsersBusyError,
  VideoSessionRepository,
  type ChatType,
  type RouteRef,
  type UserStatus,
} from '../src';

/** The server ID this demo process binds connections to, unless a request names one. */
const SERVER_ID = process.env.SERVER_ID ?? `demo-${process.pid}`;

/**
 * The IM repositories over HTTP, as a gateway and its clients would use them:
 *
 * - `POST /im/connect` `{ userId, deviceId, serverId?, connectionId? }`: bind a device
 * - `POST /im/disconnect` `{ userId, deviceId, connectionId }`: unbind it
 * - `POST /im/heartbeat` `{ routes: [{ userId, deviceId, connectionId }] }`: renew leases
 * - `GET /im/online?users=a,b,c`: online status of a list of users
 * - `PUT /im/status` `{ userId, status }`: choose a status
 * - `GET /im/routes?users=a,b,c`: the push fan-out, server by server
 * - `POST /im/read` `{ userId, chat, conversationId, messageId }`: mark read
 * - `GET /im/read/:userId?conversations=group:g1,single:u2`: read cursors
 * - `POST /im/calls` `{ sessionId?, initiatorId, participantIds, media }`: start a call
 * - `POST /im/calls/:id/join`, `/leave` `{ userId }`, `/keepalive`, `/end`; `GET /im/calls/:id`
 *
 * Message IDs travel as decimal strings, so 64-bit IDs stay exact in JSON.
 */
@Controller('im')
export class ImDemoController {
  constructor(
    private readonly routes: RouteRepository,
    private readonly presence: OnlineStatusRepository,
    private readonly cursors: ReadCursorRepository,
    private readonly calls: VideoSessionRepository,
  ) {}

  @Post('connect')
  connect(
    @Body() body: { userId: string; deviceId: string; serverId?: string; connectionId?: string },
  ) {
    const route = {
      userId: body?.userId,
      deviceId: body?.deviceId,
      serverId: body?.serverId ?? SERVER_ID,
      connectionId: body?.connectionId ?? randomUUID(),
    };
    return http(async () => ({ route, replaced: await this.routes.bind(route) }));
  }

  @Post('disconnect')
  @HttpCode(200)
  disconnect(@Body() body: RouteRef) {
    return http(async () => ({ removed: await this.routes.unbind(body) }));
  }

  @Post('heartbeat')
  @HttpCode(200)
  heartbeat(@Body() body: { routes: RouteRef[] }) {
    return http(async () => ({ gone: await this.routes.renew(body?.routes) }));
  }

  @Get('online')
  online(@Query('users') users = '') {
    return http(() => this.presence.getMany(list(users)));
  }

  @Put('status')
  status(@Body() body: { userId: string; status: UserStatus }) {
    return http(async () => {
      await this.presence.setStatus(body?.userId, body?.status);
      return this.presence.get(body.userId, { self: true });
    });
  }

  @Get('routes')
  fanOut(@Query('users') users = '') {
    return http(async () => Object.fromEntries(await this.routes.groupByServer(list(users))));
  }

  @Post('read')
  @HttpCode(200)
  markRead(
    @Body() body: { userId: string; chat: ChatType; conversationId: string; messageId: string },
  ) {
    return http(async () => ({ cursor: await this.cursors.markRead(body) }));
  }

  @Get('read/:userId')
  readCursors(@Param('userId') userId: string, @Query('conversations') conversations = '') {
    const targets = list(conversations).map((entry) => {
      const [chat, ...id] = entry.split(':');
      return { chat: chat as ChatType, conversationId: id.join(':') };
    });
    return http(async () => {
      const found = await this.cursors.getMany(userId, targets);
      return targets.map((target, i) => ({ ...target, cursor: found[i] }));
    });
  }

  @Post('calls')
  startCall(
    @Body()
    body: {
      sessionId?: string;
      initiatorId: string;
      participantIds: string[];
      media: 'audio' | 'video';
    },
  ) {
    return http(() => this.calls.start({ ...body, sessionId: body?.sessionId ?? randomUUID() }));
  }

  @Get('calls/:id')
  call(@Param('id') id: string) {
    return http(async () => {
      const session = await this.calls.get(id);
      if (session === null) throw new SessionNotFoundError(id);
      return session;
    });
  }

  @Post('calls/:id/join')
  @HttpCode(200)
  join(@Param('id') id: string, @Body() body: { userId: string }) {
    return http(() => this.calls.join(id, body?.userId));
  }

  @Post('calls/:id/leave')
  @HttpCode(200)
  leave(@Param('id') id: string, @Body() body: { userId: string }) {
    return http(async () => ({ session: await this.calls.leave(id, body?.userId) }));
  }

  @Post('calls/:id/keepalive')
  @HttpCode(200)
  keepAlive(@Param('id') id: string) {
    return http(() => this.calls.keepAlive(id));
  }

  @Post('calls/:id/end')
  @HttpCode(200)
  end(@Param('id') id: string) {
    return http(async () => ({ ended: await this.calls.end(id) }));
  }
}

/** `a,b,c` as a list, without empty entries. */
function list(text: string): string[] {
  return String(text)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Runs a repository call, answering its typed errors with the matching HTTP status. */
async function http<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UsersBusyError) {
      throw new ConflictException({ code: error.code, message: error.message, busy: error.busy });
    }
    if (error instanceof SessionExistsError || error instanceof NotInSessionError) {
      throw new ConflictException({ code: error.code, message: error.message });
    }
    if (error instanceof SessionNotFoundError) {
      throw new NotFoundException({ code: error.code, message: error.message });
    }
    if (error instanceof InvalidArgumentError || error instanceof InvalidMessageIdError) {
      throw new BadRequestException({ code: error.code, message: error.message });
    }
    throw error;
  }
}
