-- The indexes Django's own migrations create on the tables Django and its
-- packages own (contenttypes, auth, sessions, simplejwt's token_blacklist,
-- django-otp), under Django's names, where the schema lacked them: an
-- index per ForeignKey, and on PostgreSQL a varchar_pattern_ops "_like"
-- index beside every unique or indexed varchar column (what LIKE
-- 'prefix%' uses under a non-C collation). Django names an index
-- <table>_<column>_<first 8 hex digits of md5(table + column)>[_like].
--
-- Already present under other names, and left as they are: the user_id
-- indexes of otp_totp_totpdevice, otp_email_emaildevice and
-- token_blacklist_outstandingtoken, and django_session's expire_date.
-- The unique constraints (content types, permissions, group names, group
-- permissions, jti, blacklisted token_id) were created with the tables.
-- simplejwt's jti column was jti_hex when its index was made, hence the name.
CREATE INDEX IF NOT EXISTS auth_permission_content_type_id_2f476e4b ON auth_permission (content_type_id);
CREATE INDEX IF NOT EXISTS auth_group_name_a6ea08ec_like ON auth_group (name varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS auth_group_permissions_group_id_b120cbf9 ON auth_group_permissions (group_id);
CREATE INDEX IF NOT EXISTS auth_group_permissions_permission_id_84c5c92e ON auth_group_permissions (permission_id);
CREATE INDEX IF NOT EXISTS django_session_session_key_c0390e0f_like ON django_session (session_key varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS token_blacklist_outstandingtoken_jti_hex_d9bdf6f7_like ON token_blacklist_outstandingtoken (jti varchar_pattern_ops);
