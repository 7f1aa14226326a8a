-- django-otp's content type is otp_totp.totpdevice, with the default
-- codenames add_totpdevice, change_totpdevice, delete_totpdevice and
-- view_totpdevice: Django lower-cases a model's name (model_name) for
-- both. The catalog stored TOTPdevice and add_TOTPdevice, so Django's
-- has_perm('otp_totp.add_totpdevice') was False for a user granted
-- "Can add TOTP device", and Django's first migrate on such a database
-- created a second content type with four more permissions (401 -> 405).
--
-- Rename in place, so that permission ids, and the grants that point at
-- them, stay. Where Django has already created its own lower-case content
-- type, its permissions are folded into ours first: their user and group
-- grants move to the matching original permission, then the duplicates go.
-- A database created with the corrected catalog has nothing to rename.
DO $$
DECLARE
    old_ct integer;
    dup_ct integer;
BEGIN
    SELECT id INTO old_ct FROM django_content_type WHERE app_label = 'otp_totp' AND model = 'TOTPdevice';
    IF old_ct IS NULL THEN
        RETURN;
    END IF;
    SELECT id INTO dup_ct FROM django_content_type WHERE app_label = 'otp_totp' AND model = 'totpdevice';
    IF dup_ct IS NOT NULL THEN
        CREATE TEMPORARY TABLE otp_perm_map ON COMMIT DROP AS
        SELECT d.id AS dup_id, o.id AS old_id
        FROM auth_permission d
        JOIN auth_permission o ON o.content_type_id = old_ct AND lower(o.codename) = d.codename
        WHERE d.content_type_id = dup_ct;

        INSERT INTO rbac_user_user_permissions (user_id, permission_id)
        SELECT g.user_id, m.old_id FROM rbac_user_user_permissions g JOIN otp_perm_map m ON m.dup_id = g.permission_id
        ON CONFLICT (user_id, permission_id) DO NOTHING;
        INSERT INTO auth_group_permissions (group_id, permission_id)
        SELECT g.group_id, m.old_id FROM auth_group_permissions g JOIN otp_perm_map m ON m.dup_id = g.permission_id
        ON CONFLICT (group_id, permission_id) DO NOTHING;
        DELETE FROM rbac_user_user_permissions WHERE permission_id IN (SELECT dup_id FROM otp_perm_map);
        DELETE FROM auth_group_permissions WHERE permission_id IN (SELECT dup_id FROM otp_perm_map);
        DELETE FROM auth_permission WHERE id IN (SELECT dup_id FROM otp_perm_map);
        -- Permissions Django added that ours lack (custom ones) move over.
        UPDATE auth_permission SET content_type_id = old_ct WHERE content_type_id = dup_ct;
        DELETE FROM django_content_type WHERE id = dup_ct;
    END IF;
    UPDATE auth_permission SET codename = lower(codename)
    WHERE content_type_id = old_ct AND codename <> lower(codename);
    UPDATE django_content_type SET model = 'totpdevice' WHERE id = old_ct;
END $$;
