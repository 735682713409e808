-- The regional portal (etl/portal/): the préfectures' officers log in, download their workbook, deposit it and read
-- the verdict. Its tables live in a schema of their own: they are the portal's working state and journal, not the
-- warehouse's data, so the fingerprint (etl/warehouse/fingerprint.py, schemas raw..audit) never reads them.
CREATE SCHEMA portal;
COMMENT ON SCHEMA portal IS 'The regional portal: accounts, sessions, deposits and the journal of logins, failures, deposits and downloads (etl/portal/).';

-- Accounts: an officer of one région, or of one département (PAQTE reports), or an administrator (the follow-up page).
-- Passwords as Argon2id hashes only (argon2-cffi's encoded form, parameters and salt included).
CREATE TABLE portal.account (
    login            text        PRIMARY KEY CHECK (login ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    password_hash    text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role             text        NOT NULL CHECK (role IN ('officer', 'admin')),
    region_code      text        CHECK (region_code ~ '^[0-9]{2}$'),
    departement_code text        CHECK (departement_code ~ '^([0-9]{2}|2A|2B|97[0-9])$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    disabled_at      timestamptz,
    CHECK ((role = 'admin' AND region_code IS NULL AND departement_code IS NULL)
        OR (role = 'officer' AND (region_code IS NULL) <> (departement_code IS NULL)))
);
COMMENT ON TABLE portal.account IS 'Portal accounts (observatoire users add|disable|list): an officer of a région or of a département (PAQTE), or an admin; the Argon2id hash of the password, never the password.';

-- Sessions: the cookie holds a random token, the table its sha256 (a leaked table opens no session); the CSRF token of
-- the session's forms; the last request, for the expiry after inactivity.
CREATE TABLE portal.session (
    token_sha256  text        PRIMARY KEY,
    login         text        NOT NULL REFERENCES portal.account (login),
    csrf_token    text        NOT NULL,
    address       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE portal.session IS 'Open portal sessions: sha256 of the cookie token, account, CSRF token, last request (expired after inactivity, deleted at logout).';

-- Deposits through the portal, with the verdict page shown (the quarantine's cell-by-cell report). region_code is the
-- région the deposit counts for (the département's région for a PAQTE report): row-level security keeps each région
-- role (region_<code>, under which the portal runs an officer's queries) to its own rows, as for the submissions.
CREATE TABLE portal.deposit (
    deposit_id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login            text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('regional', 'paqte')),
    region_code      text        NOT NULL,
    departement_code text,
    period           text        NOT NULL,
    original_name    text        NOT NULL,
    sha256           text,
    size_bytes       bigint,
    verdict          text        NOT NULL CHECK (verdict IN ('acceptée', 'rejetée')),
    errors           integer     NOT NULL,
    warnings         integer     NOT NULL,
    report_html      text        NOT NULL,
    batch_id         bigint,
    deposited_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deposit_region_idx ON portal.deposit (region_code, deposited_at);
COMMENT ON TABLE portal.deposit IS 'Workbooks deposited through the portal: who, for which territory and period, the verdict and its HTML report, the batch of an accepted (landed) file.';

-- The journal: every login, failure, lock, logout, deposit and download, with time, account (as typed for a failure)
-- and address. The counts of recent failures per login and per address that lock a login are read from it.
CREATE TABLE portal.journal (
    journal_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    event       text        NOT NULL CHECK (event IN ('connexion', 'echec', 'blocage', 'deconnexion', 'depot',
                                                      'telechargement')),
    login       text,
    address     text,
    detail      text
);
CREATE INDEX journal_failures_idx ON portal.journal (event, at);
COMMENT ON TABLE portal.journal IS 'The portal''s journal: connexion, echec (a failed login, the login as typed), blocage (refused while locked), deconnexion, depot, telechargement; time, account, address.';

GRANT USAGE ON SCHEMA portal TO region_submitter;
GRANT SELECT, INSERT ON portal.deposit TO region_submitter;
ALTER TABLE portal.deposit ENABLE ROW LEVEL SECURITY;
CREATE POLICY region_read ON portal.deposit FOR SELECT TO region_submitter
    USING (region_code IN (SELECT unnest(core.submitter_regions())));
CREATE POLICY region_submit ON portal.deposit FOR INSERT TO region_submitter
    WITH CHECK (region_code IN (SELECT unnest(core.submitter_regions())));
GRANT USAGE ON SCHEMA portal TO etl_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA portal TO etl_writer;
CREATE POLICY etl_writer_all ON portal.deposit FOR ALL TO etl_writer USING (true) WITH CHECK (true);
