import { LuaScript } from '../store/redis-script-runner';

/**
 * KEYS: cursor hashes (one per call batched together, repeats allowed); ARGV ttl (0: none),
 * then per key field, message ID. Returns, for each in order, the integer 1 when its ID was
 * stored (the common case: a short reply), else the further cursor kept.
 *
 * IDs are canonical decimals of up to 20 digits, compared by length first. Equal lengths are
 * compared as strings: Lua uses `strcoll`, and Redis takes its collation from its
 * environment, but any collation that orders the ten digits orders equal-length digit
 * strings as their bytes, which each call checks once. Should a server's collation not order
 * them, IDs are compared as two exact halves (Lua numbers are doubles, exact only up to
 * 2^53): the last 10 digits and the rest, which is slower.
 */
export const MARK_READ = new LuaScript(
  'markRead',
  String.raw`
local in_order = '0' < '1' and '1' < '2' and '2' < '3' and '3' < '4' and '4' < '5'
  and '5' < '6' and '6' < '7' and '7' < '8' and '8' < '9'

local function further(id, cur)
  if #id ~= #cur then return #id > #cur end
  if in_order then return id > cur end
  if #id <= 15 then return tonumber(id) > tonumber(cur) end
  local a, b = tonumber(string.sub(id, 1, -11)), tonumber(string.sub(cur, 1, -11))
  if a ~= b then return a > b end
  return tonumber(string.sub(id, -10)) > tonumber(string.sub(cur, -10))
end

local ttl = tonumber(ARGV[1])
local stored = {}
for i = 1, #KEYS do
  local field, id = ARGV[i * 2], ARGV[i * 2 + 1]
  local cur = redis.call('HGET', KEYS[i], field)
  if cur and not further(id, cur) then
    stored[i] = cur
  else
    redis.call('HSET', KEYS[i], field, id)
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
    stored[i] = 1
  end
end
return stored
`,
);
