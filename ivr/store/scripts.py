"""The Lua scripts that take a turn atomically in Redis, and the status codes they answer with."""

from __future__ import annotations

from typing import Final

# What the turn scripts answer, as their first element; the second is always the server's clock
# (milliseconds since the epoch, from TIME), which the store keeps to set the next deadlines.
CHANGED: Final = 0  # the session is not what the caller expected; the rest is what is stored
SAVED: Final = 1  # the new session and the reply were saved
ANSWERED: Final = 2  # this message already has a reply; the third element is that reply
LATE: Final = 3  # Redis ran the script after its deadline: nothing was read or written

# Both turn scripts take these first: the session and replies keys; the session expected ('' =
# absent), the new session ('' = delete), its TTL in ms, the message id ('' = none), the reply to
# record ('' = none), the reply's TTL in ms, and the deadline (the server's clock, ms).
#
# The deadline is why a stalled Redis cannot move a conversation on behind the caller's back: a
# command the client gave up on (a timeout, a cancelled webhook) is still in Redis's socket, and
# Redis runs it when it resumes (after SIGSTOP, DEBUG SLEEP, a long fork). By then the person was
# answered with the safety net and will send their answer again; had the late turn been saved, that
# second answer would land on the next question, which they were never asked. So a turn that starts
# after its deadline does nothing. Scripts run with effects replication (Redis 5 and later), so
# reading TIME before writing is allowed and replicas get the writes, not the clock.
_TURN_ARGUMENTS = """
local session_key, replies_key = KEYS[1], KEYS[2]
local expected, new_session, session_ttl_ms = ARGV[1], ARGV[2], ARGV[3]
local message_field, reply, reply_ttl_ms = ARGV[4], ARGV[5], ARGV[6]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if now > tonumber(ARGV[7]) then return {3, now} end
"""

# The end of a turn both scripts share: save the new session (or delete it) and record the reply.
_SAVE = """
if new_session == '' then
  redis.call('DEL', session_key)
else
  redis.call('SET', session_key, new_session, 'PX', session_ttl_ms)
end
if reply ~= '' then
  redis.call('HSET', replies_key, message_field, reply)
  redis.call('PEXPIRE', replies_key, reply_ttl_ms)
end
return {1, now}
"""

# One round trip for a whole turn, in the usual case. The process guesses the stored session (the
# one it last wrote for this conversation, or none for a new one) and decides the turn on that
# guess; this script counts the text, checks the guess and everything else that would change the
# decision (a repeated message, an opt-out, a finished call, too many texts), and saves only if
# the guess held. Otherwise it returns what is really stored, and the turn is decided again.
# Besides the turn arguments: the text counter, opt-out flag and finished-call tombstone keys; the
# counting window in seconds (0 = do not count) and the texts allowed in it (0 = no limit).
# Returns {SAVED, now}, {LATE, now}, or {CHANGED, now, session, replay, count, opted_out, finished}.
SPECULATE: Final = (
    _TURN_ARGUMENTS
    + """
local counter_key, opt_out_key, finished_key = KEYS[3], KEYS[4], KEYS[5]
local window, limit = tonumber(ARGV[8]), tonumber(ARGV[9])
local count = 0
if window > 0 then
  count = redis.call('INCR', counter_key)
  if count == 1 then redis.call('EXPIRE', counter_key, window) end
end
local replay = false
if message_field ~= '' then replay = redis.call('HGET', replies_key, message_field) end
local opted_out = redis.call('EXISTS', opt_out_key)
local finished = redis.call('EXISTS', finished_key)
local current = redis.call('GET', session_key)
if current == false then current = '' end
if replay or opted_out == 1 or finished == 1 or (limit > 0 and count > limit) or current ~= expected then
  return {0, now, current, replay or '', count, opted_out, finished}
end
"""
    + _SAVE
)

# When the guess was wrong: compare-and-set the session against what is really stored, and record
# the reply to a message so a repeat of it gets the same reply. A reply already recorded wins.
# Returns {SAVED, now}, {LATE, now}, {CHANGED, now, current session}, or {ANSWERED, now, the reply
# already given}.
COMMIT: Final = (
    _TURN_ARGUMENTS
    + """
if message_field ~= '' then
  local seen = redis.call('HGET', replies_key, message_field)
  if seen then return {2, now, seen} end
end
local current = redis.call('GET', session_key)
if current == false then current = '' end
if current ~= expected then return {0, now, current} end
"""
    + _SAVE
)

# A finished call: remove its session, leave a tombstone so a late webhook cannot revive it, and
# hand back what the session was (to count a hang-up mid-triage as abandoned).
FINISH: Final = """
local session_key, tombstone_key = KEYS[1], KEYS[2]
local tombstone_ttl_s = ARGV[1]
local session = redis.call('GET', session_key)
redis.call('DEL', session_key)
redis.call('SET', tombstone_key, '1', 'EX', tombstone_ttl_s)
return session
"""

# Read a value and delete it in one step (GETDEL, as a script so every client and a Cluster run it
# alike): a value meant to be used once, such as an offer a caller can accept only once.
TAKE: Final = """
local value = redis.call('GET', KEYS[1])
if value then
  redis.call('DEL', KEYS[1])
end
return value
"""
