-- users list --sort: every whitelisted key (client/users_list.go) but the
-- company name has an index on the very expression the list orders by,
-- followed by id, the keyset tie-break. A page, first or ten-thousandth,
-- is then an index range scan of 51 rows, whatever the sort. (id and
-- date_joined are covered by the primary key and rbac_user_date_joined_idx.)
CREATE INDEX rbac_user_email_lower_id_idx ON rbac_user (lower(email), id);
CREATE INDEX rbac_user_first_name_lower_id_idx ON rbac_user (lower(first_name), id);
CREATE INDEX rbac_user_last_name_lower_id_idx ON rbac_user (lower(last_name), id);
CREATE INDEX rbac_user_name_lower_id_idx ON rbac_user (lower(first_name || ' ' || last_name), id);
CREATE INDEX rbac_user_last_login_id_idx ON rbac_user (coalesce(last_login, '-infinity'), id);
CREATE INDEX rbac_user_is_active_id_idx ON rbac_user (is_active, id);
CREATE INDEX rbac_user_type_id_idx ON rbac_user (type, id);
