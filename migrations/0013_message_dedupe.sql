-- Messages a job sends carry the job's key, so a job run again after a crash finds the message
-- it already queued instead of queueing a second one.
ALTER TABLE messages ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX messages_dedupe ON messages (tenant_id, dedupe_key);
