package client

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/totp"
)

// TwoFAStatus is one user's 2FA state. Keys and email tokens are never part
// of it: nothing that reads devices selects those columns.
type TwoFAStatus struct {
	UserID         int64      `json:"id"`
	Email          string     `json:"email"`
	Enabled        bool       `json:"enabled"` // a confirmed device exists (django-otp's user_has_device)
	TOTP           bool       `json:"totp"`
	TOTPConfirmed  bool       `json:"totp_confirmed"`
	EmailDevice    bool       `json:"email_device"`
	EmailConfirmed bool       `json:"email_confirmed"`
	LastUsedAt     *time.Time `json:"last_used_at"`
}

// Kinds lists the device kinds the user has ("totp", "email").
func (s TwoFAStatus) Kinds() []string {
	out := []string{}
	if s.TOTP {
		out = append(out, "totp")
	}
	if s.EmailDevice {
		out = append(out, "email")
	}
	return out
}

// TwoFAStatuses returns the 2FA state of users, in their order, in one query.
func (c *Client) TwoFAStatuses(ctx context.Context, users []UserRef) ([]TwoFAStatus, error) {
	const q = `
WITH u AS (SELECT * FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord)),
t AS (SELECT user_id, bool_or(confirmed) AS confirmed, max(last_used_at) AS last_used
      FROM otp_totp_totpdevice WHERE user_id = ANY($1) GROUP BY user_id),
e AS (SELECT user_id, bool_or(confirmed) AS confirmed, max(last_used_at) AS last_used
      FROM otp_email_emaildevice WHERE user_id = ANY($1) GROUP BY user_id)
SELECT u.id, t.user_id IS NOT NULL, coalesce(t.confirmed, false),
       e.user_id IS NOT NULL, coalesce(e.confirmed, false),
       greatest(t.last_used, e.last_used)
FROM u LEFT JOIN t ON t.user_id = u.id LEFT JOIN e ON e.user_id = u.id
ORDER BY u.ord`
	rows, err := c.db.Query(ctx, q, IDs(users))
	if err != nil {
		return nil, err
	}
	out := make([]TwoFAStatus, 0, len(users))
	var s TwoFAStatus
	i := 0
	_, err = pgx.ForEachRow(rows, []any{&s.UserID, &s.TOTP, &s.TOTPConfirmed, &s.EmailDevice, &s.EmailConfirmed, &s.LastUsedAt}, func() error {
		s.Email = users[i].Email
		s.Enabled = s.TOTPConfirmed || s.EmailConfirmed
		out = append(out, s)
		i++
		return nil
	})
	return out, err
}

// TwoFADisabled is one user whose devices were deleted.
type TwoFADisabled struct {
	UserID  int64
	Email   string
	Removed []string // device kinds deleted
}

// DisableTwoFA deletes every 2FA device of the users (both tables, in one
// statement), as django-two-factor-auth's disable does: deleting also
// un-verifies live Django sessions, confirmed=false would not. One log row
// per user that had a device; users without one are simply absent.
func (c *Client) DisableTwoFA(ctx context.Context, a Audit, users []UserRef) ([]TwoFADisabled, error) {
	const del = `
WITH dt AS (DELETE FROM otp_totp_totpdevice WHERE user_id = ANY($1) RETURNING user_id, 'totp' AS kind),
     de AS (DELETE FROM otp_email_emaildevice WHERE user_id = ANY($1) RETURNING user_id, 'email' AS kind)
SELECT user_id, array_agg(DISTINCT kind ORDER BY kind DESC)
FROM (SELECT * FROM dt UNION ALL SELECT * FROM de) d
GROUP BY user_id ORDER BY user_id`
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	var out []TwoFADisabled
	err := c.inTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, del, IDs(users))
		if err != nil {
			return err
		}
		var d TwoFADisabled
		if _, err := pgx.ForEachRow(rows, []any{&d.UserID, &d.Removed}, func() error {
			d.Email = emails[d.UserID]
			out = append(out, d)
			return nil
		}); err != nil {
			return err
		}
		changes := make([]Change, len(out))
		for i, d := range out {
			changes[i] = Change{UserID: d.UserID, Email: d.Email,
				Before: map[string]any{"2fa_devices": d.Removed}, After: map[string]any{"2fa_devices": []string{}}}
		}
		return writeOperationLog(ctx, tx, a, "2fa.disable", changes)
	})
	return out, err
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
	DryRun  bool   // check everything, then roll back
}

// TwoFAEnabled is the device created. KeyHex is set for TOTP only, for the
// caller to print the provisioning URI once; it is never logged.
type TwoFAEnabled struct {
	UserID   int64    `json:"user_id"`
	Email    string   `json:"email"`
	Method   string   `json:"method"`
	DeviceID int64    `json:"device_id"`
	Name     string   `json:"name"`
	Replaced []string `json:"replaced"` // kinds of the devices deleted by --replace
	KeyHex   string   `json:"-"`
}

// errDryRun rolls back a dry run's transaction.
var errDryRun = fmt.Errorf("dry run")

// EnableTwoFA creates a confirmed device for the user.
//
// The device is created confirmed: django-otp only consults confirmed
// devices, and the user never runs the setup wizard that would confirm an
// admin-made device, so an unconfirmed one would leave 2FA silently off.
// A user who already has a confirmed device (of either kind) is refused
// unless Replace, which deletes every existing device in the same
// transaction; the user row is locked so two admins cannot both enable.
func (c *Client) EnableTwoFA(ctx context.Context, a Audit, u UserRef, o EnableTwoFAOptions) (TwoFAEnabled, error) {
	if o.Method != MethodTOTP && o.Method != MethodEmail {
		return TwoFAEnabled{}, Refused("unknown 2FA method %q (want totp or email)", o.Method)
	}
	if o.Name == "" {
		o.Name = "default"
	}
	if len(o.Name) > 64 {
		return TwoFAEnabled{}, Refused("device name longer than 64 characters")
	}
	res := TwoFAEnabled{UserID: u.ID, Email: u.Email, Method: o.Method, Name: o.Name, Replaced: []string{}}
	err := c.inTx(ctx, func(tx pgx.Tx) error {
		var email string
		if err := tx.QueryRow(ctx, `SELECT email FROM rbac_user WHERE id = $1 FOR UPDATE`, u.ID).Scan(&email); err != nil {
			if err == pgx.ErrNoRows {
				return NotFound("user %s", u.Ref)
			}
			return err
		}
		res.Email = email
		st, err := c.WithDB(tx).TwoFAStatuses(ctx, []UserRef{{ID: u.ID, Email: email}})
		if err != nil {
			return err
		}
		if st[0].Enabled && !o.Replace {
			return Refused("refused: %s already has confirmed 2FA (%s); pass --replace to delete it and enroll anew", email, joinKinds(st[0].Kinds()))
		}
		if o.Replace && (st[0].TOTP || st[0].EmailDevice) {
			if _, err := tx.Exec(ctx, `DELETE FROM otp_totp_totpdevice WHERE user_id = $1`, u.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM otp_email_emaildevice WHERE user_id = $1`, u.ID); err != nil {
				return err
			}
			res.Replaced = st[0].Kinds()
		}
		switch o.Method {
		case MethodTOTP:
			key, err := totp.NewKeyHex()
			if err != nil {
				return err
			}
			const ins = `
INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift, last_t,
    throttling_failure_timestamp, throttling_failure_count, created_at, last_used_at)
VALUES ($1, $2, true, $3, 30, 0, 6, 1, 0, -1, NULL, 0, now(), NULL) RETURNING id`
			if err := tx.QueryRow(ctx, ins, u.ID, o.Name, key).Scan(&res.DeviceID); err != nil {
				return err
			}
			res.KeyHex = key
		case MethodEmail:
			// valid_until = now: no token is outstanding yet (django-otp's default).
			const ins = `
INSERT INTO otp_email_emaildevice (user_id, name, confirmed, token, valid_until, email,
    throttling_failure_timestamp, throttling_failure_count, last_generated_timestamp, created_at, last_used_at)
VALUES ($1, $2, true, NULL, now(), $3, NULL, 0, NULL, now(), NULL) RETURNING id`
			if err := tx.QueryRow(ctx, ins, u.ID, o.Name, email).Scan(&res.DeviceID); err != nil {
				return err
			}
		}
		after := []string{o.Method}
		if !o.Replace {
			after = mergeKinds(st[0].Kinds(), o.Method)
		}
		ch := Change{UserID: u.ID, Email: email,
			Before: map[string]any{"2fa_devices": st[0].Kinds()},
			After:  map[string]any{"2fa_devices": after, "device_id": res.DeviceID, "device_name": o.Name}}
		if err := writeOperationLog(ctx, tx, a, "2fa.enable", []Change{ch}); err != nil {
			return err
		}
		if o.DryRun {
			return errDryRun
		}
		return nil
	})
	if err == errDryRun {
		res.KeyHex, res.DeviceID = "", 0
		return res, nil
	}
	if err != nil {
		return TwoFAEnabled{}, err
	}
	return res, nil
}

// mergeKinds adds kind to kinds, keeping the totp-then-email order.
func mergeKinds(kinds []string, kind string) []string {
	has := map[string]bool{kind: true}
	for _, k := range kinds {
		has[k] = true
	}
	out := []string{}
	for _, k := range []string{MethodTOTP, MethodEmail} {
		if has[k] {
			out = append(out, k)
		}
	}
	return out
}

func joinKinds(k []string) string {
	if len(k) == 0 {
		return "none"
	}
	return strings.Join(k, ", ")
}

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
