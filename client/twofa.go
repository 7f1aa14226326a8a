package client

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/totp"
)

// TwoFAStatus is one user's 2FA state: the shape of `2fa status` and of the
// two_factor section of `users show`. Keys and email tokens are never part
// of it: nothing that reads devices selects those columns.
type TwoFAStatus struct {
	UserID         int64        `json:"id"`
	Email          string       `json:"email"`
	Enabled        bool         `json:"enabled"` // a confirmed device exists (django-otp's user_has_device)
	Devices        TwoFADevices `json:"devices"`
	TOTP           bool         `json:"totp"`
	TOTPConfirmed  bool         `json:"totp_confirmed"`
	EmailDevice    bool         `json:"email_device"`
	EmailConfirmed bool         `json:"email_confirmed"`
	LastUsedAt     *time.Time   `json:"last_used_at"`
}

// TwoFADevice is one django-otp device, without its secret.
type TwoFADevice struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"` // totp or email
	Name       string     `json:"name"`
	Confirmed  bool       `json:"confirmed"`
	Email      *string    `json:"email"` // email devices: where codes go
	CreatedAt  *time.Time `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// TwoFADevices are a user's devices; a table cell shows their kinds.
type TwoFADevices []TwoFADevice

func (ds TwoFADevices) String() string {
	kinds := make([]string, len(ds))
	for i, d := range ds {
		kinds[i] = d.Kind
	}
	return strings.Join(kinds, ",")
}

// TwoFAStatuses returns the 2FA state of users, in their order, in two
// queries whatever their number.
func (c *Client) TwoFAStatuses(ctx context.Context, users []UserRef) ([]TwoFAStatus, error) {
	ids := IDs(users)
	const q = `
SELECT user_id, id::bigint, kind, name, confirmed, email, created_at, last_used_at FROM (
    SELECT user_id, id, 'totp' AS kind, name, confirmed, NULL::text AS email, created_at, last_used_at
    FROM otp_totp_totpdevice WHERE user_id = ANY($1)
    UNION ALL
    SELECT user_id, id, 'email', name, confirmed, email, created_at, last_used_at
    FROM otp_email_emaildevice WHERE user_id = ANY($1)
) d ORDER BY user_id, kind DESC, id`
	rows, err := c.db.Query(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	devices := map[int64]TwoFADevices{}
	var uid int64
	var d TwoFADevice
	_, err = pgx.ForEachRow(rows, []any{&uid, &d.ID, &d.Kind, &d.Name, &d.Confirmed, &d.Email, &d.CreatedAt, &d.LastUsedAt}, func() error {
		d.CreatedAt, d.LastUsedAt = utcPtr(d.CreatedAt), utcPtr(d.LastUsedAt)
		devices[uid] = append(devices[uid], d)
		// Fresh pointers for the next row: the appended copy keeps these.
		d.Email, d.CreatedAt, d.LastUsedAt = nil, nil, nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]TwoFAStatus, len(users))
	for i, u := range users {
		s := TwoFAStatus{UserID: u.ID, Email: u.Email, Devices: devices[u.ID]}
		if s.Devices == nil {
			s.Devices = TwoFADevices{}
		}
		for _, d := range s.Devices {
			switch d.Kind {
			case MethodTOTP:
				s.TOTP, s.TOTPConfirmed = true, s.TOTPConfirmed || d.Confirmed
			case MethodEmail:
				s.EmailDevice, s.EmailConfirmed = true, s.EmailConfirmed || d.Confirmed
			}
			if d.LastUsedAt != nil && (s.LastUsedAt == nil || d.LastUsedAt.After(*s.LastUsedAt)) {
				s.LastUsedAt = d.LastUsedAt
			}
		}
		s.Enabled = s.TOTPConfirmed || s.EmailConfirmed
		out[i] = s
	}
	return out, nil
}

// device is one 2FA device as the log records it: never its key.
type device struct {
	ID   int64  `json:"id,omitempty"` // absent for a device the change creates (its id is in the detail)
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Confirmed is what django-otp checks; it is not logged.
	Confirmed bool `json:"-"`
}

// readDevices reads the targets' TOTP and email devices (never the keys).
func readDevices(into map[int64][]device) followUp {
	return followUp{
		sql: func(ids string, _ func(any) string) string {
			return `
SELECT user_id, id, kind, name, confirmed FROM (
    SELECT user_id, id::bigint, 'totp' AS kind, name, confirmed FROM otp_totp_totpdevice WHERE user_id IN (` + ids + `)
    UNION ALL
    SELECT user_id, id::bigint, 'email', name, confirmed FROM otp_email_emaildevice WHERE user_id IN (` + ids + `)
) d ORDER BY user_id, kind DESC, id`
		},
		read: func(rows pgx.Rows) error {
			var uid int64
			var d device
			_, err := pgx.ForEachRow(rows, []any{&uid, &d.ID, &d.Kind, &d.Name, &d.Confirmed}, func() error {
				into[uid] = append(into[uid], d)
				return nil
			})
			return err
		},
	}
}

func devicesJSON(ds []device) []device {
	if ds == nil {
		return []device{}
	}
	return ds
}

const deleteDevices = `
WITH t AS (DELETE FROM otp_totp_totpdevice WHERE user_id = ANY($1)),
     e AS (DELETE FROM otp_email_emaildevice WHERE user_id = ANY($1))
SELECT 1`

// DisableTwoFA deletes every 2FA device of the targets (both tables), as
// django-two-factor-auth's disable does: deleting also un-verifies live
// Django sessions, confirmed=false would not. One log row per user that
// had a device, naming each device deleted (id, kind, name; never the
// key); users without one are reported unchanged.
func (c *Client) DisableTwoFA(ctx context.Context, a Audit, t Targets, o ChangeOptions) (ChangeResult, error) {
	devices := map[int64][]device{}
	return c.runChange(ctx, a, o, changeSpec{action: "2fa.disable", targets: t, reads: []followUp{readDevices(devices)},
		plan: func(p *planner) error {
			var ids []int64
			for _, u := range p.users {
				ds := devices[u.ID]
				if len(ds) == 0 {
					p.same(u)
					continue
				}
				p.change(u, map[string]any{"two_factor_devices": ds}, map[string]any{"two_factor_devices": []device{}})
				ids = append(ids, u.ID)
				p.totals.DevicesDeleted += int64(len(ds))
			}
			if len(ids) > 0 {
				p.loses("deleted 2FA devices (their keys are never logged)")
				p.writes.exec(deleteDevices, ids)
			}
			return nil
		}})
}

// 2FA methods.
const (
	MethodTOTP  = "totp"
	MethodEmail = "email"
)

// EnableTwoFAOptions say which device to create.
type EnableTwoFAOptions struct {
	Method  string // MethodTOTP or MethodEmail
	Name    string // device name, default "default"
	Replace bool   // delete existing devices first (same transaction)
}

// EnableTwoFA creates a confirmed device for every target.
//
// The device is created confirmed: django-otp only consults confirmed
// devices, and the user never runs the setup wizard that would confirm an
// admin-made device, so an unconfirmed one would leave 2FA silently off.
// A user who already has a confirmed device (of either kind) is refused
// unless Replace, which deletes every existing device in the same
// transaction. For TOTP, each user's new key (hex) is in the result's
// Secrets, for the caller to show once; it is logged nowhere.
func (c *Client) EnableTwoFA(ctx context.Context, a Audit, t Targets, e EnableTwoFAOptions, o ChangeOptions) (ChangeResult, error) {
	if e.Method != MethodTOTP && e.Method != MethodEmail {
		return ChangeResult{}, Refused("unknown 2FA method %q (want totp or email)", e.Method)
	}
	if e.Name == "" {
		e.Name = "default"
	}
	if err := CheckText("device name", e.Name, 64); err != nil {
		return ChangeResult{}, err
	}
	devices := map[int64][]device{}
	return c.runChange(ctx, a, o, changeSpec{action: "2fa.enable", targets: t, reads: []followUp{readDevices(devices)},
		plan: func(p *planner) error {
			var replaced, ids []int64
			var emails, keys []string
			for _, u := range p.users {
				ds := devices[u.ID]
				var kept []device
				for _, d := range ds {
					if d.Confirmed && !e.Replace {
						return Refused("refused: %s already has confirmed 2FA (%s); pass --replace to delete it and enroll anew", u.Email, d.Kind)
					}
					if !e.Replace {
						kept = append(kept, d)
					}
				}
				if e.Replace && len(ds) > 0 {
					replaced = append(replaced, u.ID)
					p.totals.DevicesDeleted += int64(len(ds))
				}
				after := append(append([]device{}, kept...), device{Kind: e.Method, Name: e.Name})
				p.change(u, map[string]any{"two_factor_devices": devicesJSON(ds)}, map[string]any{"two_factor_devices": after})
				ids, emails = append(ids, u.ID), append(emails, u.Email)
				if e.Method == MethodTOTP {
					key, err := totp.NewKeyHex()
					if err != nil {
						return err
					}
					keys = append(keys, key)
					p.secrets[u.ID] = key
				}
			}
			if len(replaced) > 0 {
				p.loses("the replaced 2FA devices (their keys are never logged)")
			}
			if len(ids) == 0 {
				return nil
			}
			// The new devices' ids go to the log's detail (an undo deletes
			// exactly them), so they are created before the log is queued,
			// after the devices they replace are gone.
			p.effect(func(ctx context.Context, tx DBTX) error {
				if len(replaced) > 0 {
					if _, err := tx.Exec(ctx, deleteDevices, replaced); err != nil {
						return err
					}
				}
				q, perUser := insertTOTPDevices, keys
				if e.Method == MethodEmail {
					q, perUser = insertEmailDevices, emails
				}
				rows, err := tx.Query(ctx, q, ids, e.Name, perUser)
				if err != nil {
					return err
				}
				var uid, id int64
				_, err = pgx.ForEachRow(rows, []any{&uid, &id}, func() error {
					p.changeOf(uid).Detail["created_device_id"] = id
					return nil
				})
				return err
			})
			return nil
		}})
}

// The inserts of new confirmed devices, one per user: $3 is each user's
// TOTP key, or each user's address for an email device.
const (
	insertTOTPDevices = `
INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift, last_t,
    throttling_failure_timestamp, throttling_failure_count, created_at, last_used_at)
SELECT t.uid, $2, true, t.key, 30, 0, 6, 1, 0, -1, NULL, 0, now(), NULL
FROM unnest($1::bigint[], $3::text[]) AS t(uid, key)
RETURNING user_id, id::bigint`
	// valid_until = now: no token is outstanding yet (django-otp's default).
	insertEmailDevices = `
INSERT INTO otp_email_emaildevice (user_id, name, confirmed, token, valid_until, email,
    throttling_failure_timestamp, throttling_failure_count, last_generated_timestamp, created_at, last_used_at)
SELECT t.uid, $2, true, NULL, now(), t.email, NULL, 0, NULL, now(), NULL
FROM unnest($1::bigint[], $3::text[]) AS t(uid, email)
RETURNING user_id, id::bigint`
)

// VerifyTOTP checks a code against the user's confirmed TOTP devices at
// now, as django-otp's verify_token would (tolerance, drift, replay guard),
// without recording the use: it is the project's verifier for support
// checks ("read me the code on your phone") and for tests.
func (c *Client) VerifyTOTP(ctx context.Context, userID int64, code string, now time.Time) (bool, error) {
	const q = `
SELECT key, step, t0, digits, tolerance, drift, last_t FROM otp_totp_totpdevice
WHERE user_id = $1 AND confirmed ORDER BY id`
	rows, err := c.db.Query(ctx, q, userID)
	if err != nil {
		return false, err
	}
	var d totp.Device
	var step, digits, tol, drift int16
	ok := false
	_, err = pgx.ForEachRow(rows, []any{&d.KeyHex, &step, &d.T0, &digits, &tol, &drift, &d.LastT}, func() error {
		d.Step, d.Digits, d.Tolerance, d.Drift = int64(step), int(digits), int64(tol), int64(drift)
		if v, _ := d.Verify(code, now); v {
			ok = true
		}
		return nil
	})
	return ok, err
}
