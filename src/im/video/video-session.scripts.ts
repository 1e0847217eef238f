import { LuaScript } from '../store/redis-script-runner';

/*
 * Video session scripts. A session is a JSON string under its own key; each participant's
 * busy flag (the session ID, under the user's hash tag) is in the user's slot. Standalone
 * and Sentinel start a call with one script over all keys; Cluster claims the flags slot by
 * slot (see RedisVideoSessionStore.start). Flags and sessions carry the same lease.
 */

/**
 * KEYS[1] session, KEYS[2..] flags; ARGV sessionId, json, ttl, then the user of each flag.
 * Returns { 'ok' }, { 'exists' } or { 'busy', user, holder, ... }.
 */
export const START = new LuaScript(
  'startSession',
  String.raw`
if redis.call('EXISTS', KEYS[1]) == 1 then return { 'exists' } end
local busy = { 'busy' }
for i = 2, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= ARGV[1] then
    busy[#busy + 1] = ARGV[i + 2]
    busy[#busy + 1] = holder
  end
end
if #busy > 1 then return busy end
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[3]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return { 'ok' }
`,
);

/**
 * KEYS: flags of one slot; ARGV sessionId, ttl, then the user of each flag. Claims all or
 * none; returns {} when claimed, else { user, holder, ... } of the busy ones.
 */
export const CLAIM = new LuaScript(
  'claimFlags',
  String.raw`
local busy = {}
for i = 1, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= ARGV[1] then
    busy[#busy + 1] = ARGV[i + 2]
    busy[#busy + 1] = holder
  end
end
if #busy > 0 then return busy end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
return busy
`,
);

/** KEYS: flags of one slot; ARGV sessionId. Deletes the flags that session still holds. */
export const RELEASE = new LuaScript(
  'releaseFlags',
  String.raw`
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
`,
);

/** KEYS: flags of one slot; ARGV sessionId, ttl. Extends the flags that session holds. */
export const TOUCH = new LuaScript(
  'touchFlags',
  String.raw`
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1
`,
);

/**
 * KEYS[1] session; ARGV user, 'claimed' when the caller re-claimed the user's flag.
 * Returns { 'ok', json }, { 'missing' }, { 'not-in' }, or { 'claim' } when the user had
 * left and must claim their flag first.
 */
export const JOIN = new LuaScript(
  'joinSession',
  String.raw`
local raw = redis.call('GET', KEYS[1])
if not raw then return { 'missing' } end
local session = cjson.decode(raw)
for _, p in ipairs(session.participants) do
  if p.userId == ARGV[1] then
    if p.state == 'left' and ARGV[2] ~= 'claimed' then return { 'claim' } end
    p.state = 'joined'
    local json = cjson.encode(session)
    redis.call('SET', KEYS[1], json, 'KEEPTTL')
    return { 'ok', json }
  end
end
return { 'not-in' }
`,
);

/**
 * KEYS[1] session; ARGV user. Returns { 'ok', json }, { 'ended', json } when nobody active
 * is left (the session is deleted), { 'missing' } or { 'not-in' }.
 */
export const LEAVE = new LuaScript(
  'leaveSession',
  String.raw`
local raw = redis.call('GET', KEYS[1])
if not raw then return { 'missing' } end
local session = cjson.decode(raw)
local found, active = false, false
for _, p in ipairs(session.participants) do
  if p.userId == ARGV[1] then
    p.state = 'left'
    found = true
  elseif p.state ~= 'left' then
    active = true
  end
end
if not found then return { 'not-in' } end
local json = cjson.encode(session)
if not active then
  redis.call('DEL', KEYS[1])
  return { 'ended', json }
end
redis.call('SET', KEYS[1], json, 'KEEPTTL')
return { 'ok', json }
`,
);

/** KEYS[1] session. Deletes it; returns its JSON, or nil. */
export const END = new LuaScript(
  'endSession',
  String.raw`
local raw = redis.call('GET', KEYS[1])
if raw then redis.call('DEL', KEYS[1]) end
return raw
`,
);

/** KEYS[1] session; ARGV expiresAt, ttl. Returns the extended session's JSON, or nil. */
export const KEEP_ALIVE = new LuaScript(
  'keepAliveSession',
  String.raw`
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local session = cjson.decode(raw)
session.expiresAt = tonumber(ARGV[1])
local json = cjson.encode(session)
redis.call('SET', KEYS[1], json, 'PX', ARGV[2])
return json
`,
);
