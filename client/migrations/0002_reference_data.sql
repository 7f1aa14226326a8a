-- The ten user groups and the token statuses. The 401 permissions are loaded
-- from the embedded catalog by the migration runner (see client/migrate.go),
-- so that the list exists exactly once in the repository.
INSERT INTO auth_group (name) VALUES
    ('API'), ('Email not verified'), ('Enterprise owner'), ('Enterprise staff'),
    ('KYC not verified'), ('Legal merchant owner'), ('Legal merchant staff'),
    ('Merchant owner'), ('Merchant staff'), ('Phone not verified')
ON CONFLICT (name) DO NOTHING;

INSERT INTO rbac_tokenstatus (name) VALUES ('sent'), ('used'), ('expired'), ('failed')
ON CONFLICT (name) DO NOTHING;
