-- Whose Django session is which (client/sessions.go deleteSessions).
--
-- The user id of a session sits inside its encoded, sometimes
-- zlib-compressed payload, which SQL cannot read, so finding one user's
-- sessions used to mean reading and decoding the whole django_session
-- table on every deactivation. This table remembers what the tool has
-- decoded: a session key's user never changes (Django's login() and
-- update_session_auth_hash() cycle the key, logout flushes it), so a key
-- decoded once stays right for as long as the session exists.
--
-- Keys the tool has not decoded yet are queued here by a trigger on
-- django_session (decoded = false), so a deactivation decodes only the
-- sessions created since the last one and then finds its users' sessions
-- by index. The triggers are statement-level (one INSERT … SELECT per
-- Django statement, not a call per row) and SECURITY DEFINER, so the
-- Django application's role needs no grant on this table.
CREATE TABLE b2badmin_session_owner (
    session_key varchar(40) PRIMARY KEY,
    -- NULL: anonymous, or nothing the tool can read as a user id.
    user_id     bigint,
    decoded     boolean NOT NULL DEFAULT false
);
CREATE INDEX b2badmin_session_owner_user_id_idx ON b2badmin_session_owner (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX b2badmin_session_owner_pending_idx ON b2badmin_session_owner (session_key) WHERE NOT decoded;

CREATE FUNCTION b2badmin_session_queue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    -- A key seen again (deleted while the triggers were off, then reused)
    -- is decoded afresh.
    INSERT INTO b2badmin_session_owner (session_key)
    SELECT session_key FROM new_sessions
    ON CONFLICT (session_key) DO UPDATE SET user_id = NULL, decoded = false;
    RETURN NULL;
END $$;

CREATE FUNCTION b2badmin_session_forget() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM b2badmin_session_owner o USING old_sessions d WHERE o.session_key = d.session_key;
    RETURN NULL;
END $$;

CREATE FUNCTION b2badmin_session_forget_all() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    TRUNCATE b2badmin_session_owner;
    RETURN NULL;
END $$;

CREATE TRIGGER b2badmin_session_queue AFTER INSERT ON django_session
    REFERENCING NEW TABLE AS new_sessions FOR EACH STATEMENT EXECUTE FUNCTION b2badmin_session_queue();
CREATE TRIGGER b2badmin_session_forget AFTER DELETE ON django_session
    REFERENCING OLD TABLE AS old_sessions FOR EACH STATEMENT EXECUTE FUNCTION b2badmin_session_forget();
CREATE TRIGGER b2badmin_session_forget_all AFTER TRUNCATE ON django_session
    FOR EACH STATEMENT EXECUTE FUNCTION b2badmin_session_forget_all();

-- The sessions that exist now: decoded by the first deactivation.
INSERT INTO b2badmin_session_owner (session_key) SELECT session_key FROM django_session;
