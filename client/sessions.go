package client

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SessionUserID reads the user id out of a Django session_data value
// (DJANGO.md): "<payload>:<base62 timestamp>:<signature>", the payload
// URL-safe base64 without padding of the JSON session dict, or, with a
// leading ".", of its zlib-compressed bytes. No key is needed: we only read
// "_auth_user_id", we never trust or produce a session. ok is false for
// anonymous sessions and anything that does not decode.
func SessionUserID(data string) (id string, ok bool) {
	var d SessionDecoder
	return d.UserID(data)
}

// SessionDecoder decodes many sessions with one zlib reader and one buffer:
// a new zlib reader per session allocates its 40 KB window each time,
// which cost 1.7–2.3 s per 50,000-user deactivation on real, compressed
// Django sessions. The zero value is ready; it is not safe for concurrent use.
type SessionDecoder struct {
	zr  io.ReadCloser // implements zlib.Resetter once made
	br  bytes.Reader
	buf bytes.Buffer
	raw []byte
}

// UserID is SessionUserID using d's reader and buffers.
func (d *SessionDecoder) UserID(data string) (id string, ok bool) {
	payload, _, found := strings.Cut(data, ":")
	if !found || payload == "" {
		return "", false
	}
	compressed := payload[0] == '.'
	if compressed {
		payload = payload[1:]
	}
	payload = strings.TrimRight(payload, "=")
	n := base64.RawURLEncoding.DecodedLen(len(payload))
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	n, err := base64.RawURLEncoding.Decode(d.raw[:n], []byte(payload))
	if err != nil {
		return "", false
	}
	raw := d.raw[:n]
	if compressed {
		d.br.Reset(raw)
		if d.zr == nil {
			if d.zr, err = zlib.NewReader(&d.br); err != nil {
				d.zr = nil
				return "", false
			}
		} else if err := d.zr.(zlib.Resetter).Reset(&d.br, nil); err != nil {
			return "", false
		}
		d.buf.Reset()
		// A session dict is small; the limit stops a hostile row from
		// inflating into gigabytes.
		if _, err := d.buf.ReadFrom(io.LimitReader(d.zr, 1<<20)); err != nil {
			return "", false
		}
		raw = d.buf.Bytes()
	}
	var s struct {
		UserID json.RawMessage `json:"_auth_user_id"`
	}
	if json.Unmarshal(raw, &s) != nil || len(s.UserID) == 0 {
		return "", false
	}
	// Django stores the pk as a string; accept a bare number too.
	var str string
	if json.Unmarshal(s.UserID, &str) == nil {
		return str, str != ""
	}
	var num int64
	if json.Unmarshal(s.UserID, &num) == nil {
		return strconv.FormatInt(num, 10), true
	}
	return "", false
}

// Owner is the id of the user a session belongs to: UserID when it is a
// canonical decimal pk, the only form that names one of our users ("042"
// or a uuid pk names nobody here; Django writes str(pk)).
func (d *SessionDecoder) Owner(data string) (int64, bool) {
	s, ok := d.UserID(data)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

// deleteSessions deletes the Django sessions of the given users and returns
// how many each user lost (users without sessions are absent).
//
// Its cost follows the users' sessions and the sessions created since the
// last call, not the size of django_session: b2badmin_session_owner (see
// migration 0041) remembers whose each session is. First the keys queued
// since the last call are decoded (decodePendingSessions), then the users'
// sessions are found by index and deleted in one statement. Exactness: a
// key's user never changes in Django (login cycles the key), every new key
// is queued by a trigger in the inserting transaction, and the delete
// joins django_session itself, so a key is deleted only while it exists.
func deleteSessions(ctx context.Context, tx DBTX, ids []int64) (map[int64]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if _, err := decodePendingSessions(ctx, tx); err != nil {
		return nil, err
	}
	// RETURNING counts what was really deleted: Django may end a session
	// meanwhile. The delete trigger drops the owner rows with them.
	rows, err := tx.Query(ctx, deleteOwnedSessionsSQL, ids)
	if err != nil {
		return nil, err
	}
	perUser := map[int64]int64{}
	var uid int64
	_, err = pgx.ForEachRow(rows, []any{&uid}, func() error { perUser[uid]++; return nil })
	return perUser, err
}

const deleteOwnedSessionsSQL = `
DELETE FROM django_session s USING b2badmin_session_owner o
WHERE o.user_id = ANY($1) AND s.session_key = o.session_key
RETURNING o.user_id`

// The queued keys, locked in key order (two deactivations decoding at once
// wait for each other instead of deadlocking, and neither may skip a key
// the other holds: it could be one of its users' sessions). A queued key
// whose session is gone (deleted with the triggers off) has no data.
const pendingSessionsSQL = `
SELECT o.session_key, s.session_data
FROM b2badmin_session_owner o LEFT JOIN django_session s ON s.session_key = o.session_key
WHERE NOT o.decoded
ORDER BY o.session_key
LIMIT $1
FOR UPDATE OF o`

// pendingChunk bounds the keys held in memory at once: the first call
// after the migration decodes every session that existed then.
const pendingChunk = 50_000

const recordSessionOwnersSQL = `
UPDATE b2badmin_session_owner o SET user_id = v.user_id, decoded = true
FROM unnest($1::text[], $2::bigint[]) AS v(session_key, user_id)
WHERE o.session_key = v.session_key`

// decodePendingSessions decodes the sessions queued since the last call
// and records their users; it returns how many it decoded.
func decodePendingSessions(ctx context.Context, tx DBTX) (int, error) {
	var dec SessionDecoder
	total := 0
	for {
		rows, err := tx.Query(ctx, pendingSessionsSQL, pendingChunk)
		if err != nil {
			return total, err
		}
		var keys []string
		var users []*int64
		var key string
		var data *string
		_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
			keys = append(keys, key)
			users = append(users, nil)
			if data == nil {
				return nil
			}
			if n, ok := dec.Owner(*data); ok {
				users[len(users)-1] = &n
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		if _, err := tx.Exec(ctx, recordSessionOwnersSQL, keys, users); err != nil {
			return total, err
		}
		total += len(keys)
		if len(keys) < pendingChunk {
			return total, nil
		}
	}
}
