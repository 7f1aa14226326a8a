-- A Django custom user model with USERNAME_FIELD = 'email' needs the field
-- itself unique (manage.py check: auth.E003 "'User.email' must be unique
-- because it is named as the 'USERNAME_FIELD'"): the case-insensitive
-- index on lower(email) does not count. A plain unique constraint beside
-- it, under the name PostgreSQL and Django give it. It can never fail:
-- addresses unique case-insensitively are unique as they are.
ALTER TABLE rbac_user ADD CONSTRAINT rbac_user_email_key UNIQUE (email);
