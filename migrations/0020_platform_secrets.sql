-- Platform secrets, each AES-GCM sealed with BOOKLINE_MASTER_KEY (base64), so `bookline keys
-- reseal` re-seals them with every other sealed column. `derivation_root` is the root of the
-- keys for keyed hashes that must match forever (opt-out phone hashes, audit references): it
-- starts as the first master key's bytes and never changes when the master key does.
CREATE TABLE platform_secrets (
    name TEXT PRIMARY KEY,
    value_sealed TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
