-- Fewer indexes on rbac_user: every UPDATE that is not HOT writes one entry
-- into every index of the table, and a deactivation (is_active is indexed)
-- is never HOT. 0020 left 13 indexes; three go, 10 stay.
--
-- rbac_user_email_lower_id_idx: the unique rbac_user_email_ci_uniq is on
--   lower(email) already. Because the value is unique, a page sorted by
--   (lower(email), id) is that index's order plus an incremental sort of
--   one-row groups; the keyset condition becomes the index condition
--   lower(email) >= $1. Pages: 1.6–2.2 ms at 1,000,000 users (were
--   1.5–1.7 ms with the dropped index), 4.1 ms at 10,000,000.
-- rbac_user_is_active_type_idx: no sort uses it; --active and --type are
--   served by rbac_user_is_active_id_idx and rbac_user_type_id_idx.
-- rbac_user_last_login_id_idx: Django writes last_login at every login, so
--   this index made every login of every user a non-HOT update of all the
--   table's indexes, for one rarely used sort. --sort last_login is now a
--   top-N sort of the table: 0.40 s a page at 1,000,000 users, 6.5 s at
--   10,000,000 (was 1–4 ms); the last-login filters compare last_login
--   itself.
--
-- Measured and kept: rbac_user_first_name_lower_id_idx. Without it a page
-- sorted by first_name is a top-N sort too, 0.77 s at 1,000,000 users and
-- 8.5 s at 10,000,000. With both it and last_login's gone (9 indexes) a
-- 50,000-user is_active UPDATE at 1,000,000 users took 5.1 s instead of
-- 8.3 s (median of 3, load 1.5–1.8). docs/scale.md has the trade-off.
DROP INDEX IF EXISTS rbac_user_email_lower_id_idx;
DROP INDEX IF EXISTS rbac_user_is_active_type_idx;
DROP INDEX IF EXISTS rbac_user_last_login_id_idx;
