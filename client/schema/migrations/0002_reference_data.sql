-- The ten user groups and the token statuses. The 401 permissions follow in
-- 0003_permission_catalog.sql, generated from client/catalog.
INSERT INTO auth_group (name) VALUES
    ('API'), ('Email not verified'), ('Enterprise owner'), ('Enterprise staff'),
    ('KYC not verified'), ('Legal merchant owner'), ('Legal merchant staff'),
    ('Merchant owner'), ('Merchant staff'), ('Phone not verified')
ON CONFLICT (name) DO NOTHING;

INSERT INTO rbac_tokenstatus (name) VALUES ('sent'), ('used'), ('expired'), ('failed')
ON CONFLICT (name) DO NOTHING;
