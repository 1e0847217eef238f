import { LuaScript } from '../store/redis-script-runner';

/*
 * The presence record scripts. Each runs on the records of one hash slot and applies the
 * same rules as MemoryRouteStore, on the layout of user-record.ts:
 *
 *   <status><lastSeenAt>( \30 <deviceId> \31 <expiresAt> \31 <serverId> \31 <connectionId> )*
 *
 * Times are milliseconds from the caller's clock (ARGV), so Redis and the memory driver
 * agree and tests can drive them; `%.0f` prints them without exponent. A change of what
 * others see (online, offline, status) is published on the presence channel by the script
 * that made it, so it is reported once, whichever instance caused it.
 */
const PRELUDE = String.raw`
local function decode(raw)
  local rec = { status = 'o', seen = '', devices = {} }
  if not raw then return rec end
  local head = string.match(raw, '^[^\30]*')
  rec.status = string.sub(head, 1, 1)
  rec.seen = string.sub(head, 2)
  for dev, exp, srv, conn in string.gmatch(raw, '\30([^\31]*)\31(%d+)\31([^\31]*)\31([^\30]*)') do
    rec.devices[#rec.devices + 1] = { dev, tonumber(exp), srv, conn }
  end
  return rec
end

local function encode(rec)
  local parts = { rec.status .. rec.seen }
  for _, d in ipairs(rec.devices) do
    local exp = string.format('%.0f', d[2])
    parts[#parts + 1] = d[1] .. '\31' .. exp .. '\31' .. d[3] .. '\31' .. d[4]
  end
  return table.concat(parts, '\30')
end

local NAMES = { o = 'online', a = 'away', b = 'busy', i = 'invisible' }

local function visible(rec)
  return rec.status ~= 'i' and #rec.devices > 0
end

local function publish(channel, kind, user, status, at)
  local at_text = string.format('%.0f', at)
  redis.call('PUBLISH', channel, cjson.encode({ t = kind, u = user, s = status, at = at_text }))
end

local function go_offline(rec, channel, user, at)
  rec.seen = string.format('%.0f', at)
  publish(channel, 'offline', user, 'offline', at)
end

-- Drops ended leases; the last one of a visible user is when the user went offline.
local function prune(rec, now, channel, user)
  local was = visible(rec)
  local kept, last_end = {}, 0
  for _, d in ipairs(rec.devices) do
    if d[2] > now then kept[#kept + 1] = d elseif d[2] > last_end then last_end = d[2] end
  end
  if #kept == #rec.devices then return false end
  rec.devices = kept
  if was and #kept == 0 then go_offline(rec, channel, user, last_end) end
  return true
end

local function save(key, rec, record_ttl)
  redis.call('SET', key, encode(rec), 'PX', record_ttl)
end
`;

/**
 * KEYS[1] record; ARGV user, device, server, connection, now, routeTtl, recordTtl, channel.
 * Returns the replaced binding as { server, connection }, or nil.
 */
export const BIND = new LuaScript(
  'bind',
  PRELUDE +
    String.raw`
local user, device, server, conn = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(ARGV[5])
local channel = ARGV[8]
local rec = decode(redis.call('GET', KEYS[1]))
prune(rec, now, channel, user)
local was = visible(rec)

local entry = { device, now + tonumber(ARGV[6]), server, conn }
local replaced = false
local at = nil
for i, d in ipairs(rec.devices) do
  if d[1] == device then at = i break end
end
if at then
  local old = rec.devices[at]
  if old[3] ~= server or old[4] ~= conn then replaced = { old[3], old[4] } end
  rec.devices[at] = entry
else
  rec.devices[#rec.devices + 1] = entry
end

save(KEYS[1], rec, ARGV[7])
if not was and visible(rec) then publish(channel, 'online', user, NAMES[rec.status], now) end
return replaced
`,
);

/** KEYS[1] record; ARGV user, device, connection, now, recordTtl, channel. Returns 1 or 0. */
export const UNBIND = new LuaScript(
  'unbind',
  PRELUDE +
    String.raw`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local user, device, conn = ARGV[1], ARGV[2], ARGV[3]
local now = tonumber(ARGV[4])
local channel = ARGV[6]
local rec = decode(raw)
prune(rec, now, channel, user)
local was = visible(rec)

local removed = 0
for i, d in ipairs(rec.devices) do
  if d[1] == device and d[4] == conn then
    table.remove(rec.devices, i)
    removed = 1
    break
  end
end
if removed == 1 and was and not visible(rec) then go_offline(rec, channel, user, now) end
save(KEYS[1], rec, ARGV[5])
return removed
`,
);

/**
 * KEYS: records; ARGV now, newExpiresAt, recordTtl, channel, then per key user, device,
 * connection. Returns the 1-based positions of the bindings that are gone.
 *
 * The common case (the binding is live) patches the expiry in place without decoding the
 * record: one GET, one find, one SET per binding.
 */
export const RENEW = new LuaScript(
  'renew',
  PRELUDE +
    String.raw`
local now = tonumber(ARGV[1])
local new_exp, record_ttl, channel = ARGV[2], ARGV[3], ARGV[4]
local gone = {}
for i = 1, #KEYS do
  local base = 2 + i * 3
  local dev, conn = ARGV[base + 1], ARGV[base + 2]
  local raw = redis.call('GET', KEYS[i])
  local live = false
  if raw then
    local s = string.find(raw, '\30' .. dev .. '\31', 1, true)
    if s then
      local from = s + #dev + 2
      local exp, exp_end, c = string.match(raw, '^(%d+)()\31[^\31]*\31([^\30]*)', from)
      if c == conn then
        if tonumber(exp) > now then
          local patched = string.sub(raw, 1, from - 1) .. new_exp .. string.sub(raw, exp_end)
          redis.call('SET', KEYS[i], patched, 'PX', record_ttl)
          live = true
        else
          local rec = decode(raw)
          prune(rec, now, channel, ARGV[base])
          save(KEYS[i], rec, record_ttl)
        end
      end
    end
  end
  if not live then gone[#gone + 1] = i end
end
return gone
`,
);

/** KEYS[1] record; ARGV user, status letter, now, recordTtl, channel. */
export const SET_STATUS = new LuaScript(
  'setStatus',
  PRELUDE +
    String.raw`
local user, status = ARGV[1], ARGV[2]
local now = tonumber(ARGV[3])
local channel = ARGV[5]
local rec = decode(redis.call('GET', KEYS[1]))
prune(rec, now, channel, user)
local was, before = visible(rec), rec.status
rec.status = status
local is = visible(rec)

if was and not is then
  go_offline(rec, channel, user, now)
elseif is and not was then
  publish(channel, 'online', user, NAMES[status], now)
elseif is and before ~= status then
  publish(channel, 'status', user, NAMES[status], now)
end
save(KEYS[1], rec, ARGV[4])
return 1
`,
);

/**
 * KEYS: records of users the server index named; ARGV server, now, recordTtl, channel, then
 * the users. Removes only bindings still held by that server (index members may be stale).
 * Returns how many live bindings were removed.
 */
export const REMOVE_SERVER = new LuaScript(
  'removeServer',
  PRELUDE +
    String.raw`
local server = ARGV[1]
local now = tonumber(ARGV[2])
local record_ttl, channel = ARGV[3], ARGV[4]
local removed = 0
for i = 1, #KEYS do
  local raw = redis.call('GET', KEYS[i])
  if raw and string.find(raw, '\31' .. server .. '\31', 1, true) then
    local user = ARGV[4 + i]
    local rec = decode(raw)
    prune(rec, now, channel, user)
    local was = visible(rec)
    local kept = {}
    for _, d in ipairs(rec.devices) do
      if d[3] == server then removed = removed + 1 else kept[#kept + 1] = d end
    end
    rec.devices = kept
    if was and not visible(rec) then go_offline(rec, channel, user, now) end
    save(KEYS[i], rec, record_ttl)
  end
end
return removed
`,
);
