-- When the sender handed a message to its provider, cleared once the provider has answered.
-- A message still `sending` after its lease with no provider id either never reached the
-- provider (handed_at NULL: it is sent again) or was being handed over when the process died
-- (handed_at set): the provider is asked whether it got it before anything is sent again.
ALTER TABLE messages ADD COLUMN handed_at TIMESTAMPTZ;
