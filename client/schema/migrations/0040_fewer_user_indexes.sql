-- Fewer indexes on rbac_user: every UPDATE that is not HOT writes one entry
-- into every index of the table, and a deactivation (is_active is indexed)
-- is never HOT. 0020 left 13 indexes; these four go, leaving 9.
--
-- Measured on 1,000,000 seeded users (2 cores, load 1.5–1.8), an UPDATE
-- flipping is_active of 50,000 users, three runs each after VACUUM and a
-- checkpoint: 13 indexes 8.3 s median (7.2–12.5 s), 9 indexes 5.1 s
-- (4.8–5.4 s); the indexes shrink from 410 MB to 287 MB.
--
-- rbac_user_email_lower_id_idx: the unique rbac_user_email_ci_uniq is on
--   lower(email) already. Because the value is unique, a page sorted by
--   (lower(email), id) is that index's order plus an incremental sort of
--   single-row groups: first and keyset pages 1.6–2.2 ms (were 1.5–1.7).
-- rbac_user_is_active_type_idx: no sort uses it; --active and --type
--   filters are served by rbac_user_is_active_id_idx and
--   rbac_user_type_id_idx as well.
-- rbac_user_last_login_id_idx: Django writes last_login at every login, so
--   this index made every login of every user a non-HOT update of all the
--   table's indexes, to serve one rarely used sort. --sort last_login is now
--   a top-N sort: 0.40 s per page at 1,000,000 users (was 1 ms).
-- rbac_user_first_name_lower_id_idx: --sort name (first and last name, the
--   Users page's Name column) and --sort last_name keep their indexes;
--   --sort first_name alone is now a top-N sort: 0.77 s per page at
--   1,000,000 users (was 1.7 ms). docs/scale.md has the 10,000,000 numbers.
DROP INDEX IF EXISTS rbac_user_email_lower_id_idx;
DROP INDEX IF EXISTS rbac_user_is_active_type_idx;
DROP INDEX IF EXISTS rbac_user_last_login_id_idx;
DROP INDEX IF EXISTS rbac_user_first_name_lower_id_idx;
