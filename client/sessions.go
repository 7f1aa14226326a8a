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
	payload, _, found := strings.Cut(data, ":")
	if !found || payload == "" {
		return "", false
	}
	compressed := payload[0] == '.'
	if compressed {
		payload = payload[1:]
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return "", false
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return "", false
		}
		// A session dict is small; the limit stops a hostile row from
		// inflating into gigabytes.
		raw, err = io.ReadAll(io.LimitReader(zr, 1<<20))
		if err != nil {
			return "", false
		}
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
	var n int64
	if json.Unmarshal(s.UserID, &n) == nil {
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

// deleteSessions deletes the Django sessions of the given users and returns
// how many each user lost (users without sessions are absent).
//
// The user id is inside the encoded (sometimes zlib-compressed) payload,
// which SQL cannot decode, so we read the table once with a streaming
// query, decode each payload in Go, collect the keys that belong to the
// target users and delete them in one statement: one pass over
// django_session for any number of users, never a query per user.
func deleteSessions(ctx context.Context, tx DBTX, ids []int64) (map[int64]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	want := make(map[string]int64, len(ids))
	for _, id := range ids {
		want[strconv.FormatInt(id, 10)] = id
	}
	rows, err := tx.Query(ctx, `SELECT session_key, session_data FROM django_session`)
	if err != nil {
		return nil, err
	}
	var keys []string
	owner := map[string]int64{}
	var key, data string
	_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		if uid, ok := SessionUserID(data); ok {
			if id, hit := want[uid]; hit {
				keys = append(keys, key)
				owner[key] = id
			}
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	// RETURNING counts what was really deleted: Django may end a session
	// between the read and the delete.
	rows, err = tx.Query(ctx, `DELETE FROM django_session WHERE session_key = ANY($1) RETURNING session_key`, keys)
	if err != nil {
		return nil, err
	}
	perUser := map[int64]int64{}
	_, err = pgx.ForEachRow(rows, []any{&key}, func() error { perUser[owner[key]]++; return nil })
	return perUser, err
}
