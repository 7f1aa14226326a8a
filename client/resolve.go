package client

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// UserRef is one resolved user argument.
type UserRef struct {
	Ref   string `json:"ref"`
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

// ResolveUsers turns user arguments (ID, email or UUID) into users, in the
// order given, without duplicates. Every unknown reference is named in one
// NotFound error, so a bulk command fails before it changes anything.
func ResolveUsers(ctx context.Context, db DBTX, refs []string) ([]UserRef, error) {
	byRef, err := findRefs(ctx, db, refs)
	if err != nil {
		return nil, err
	}
	return matchRefs(refs, byRef)
}

// findRefs looks the references up in one query and returns the users
// found, keyed by refKey (id text, lower-case email, uuid text).
func findRefs(ctx context.Context, db DBTX, refs []string) (map[string]UserRef, error) {
	keys, err := parseRefs(refs)
	if err != nil {
		return nil, err
	}
	const q = `
SELECT id, email, id::text, lower(email), uuid::text FROM rbac_user
WHERE id = ANY($1) OR lower(email) = ANY($2) OR uuid = ANY($3::uuid[])`
	rows, err := db.Query(ctx, q, keys.ids, keys.emails, keys.uuids)
	if err != nil {
		return nil, err
	}
	byRef := map[string]UserRef{}
	var u UserRef
	var idText, lowerEmail, uuidText string
	_, err = pgx.ForEachRow(rows, []any{&u.ID, &u.Email, &idText, &lowerEmail, &uuidText}, func() error {
		byRef[idText], byRef[lowerEmail], byRef[uuidText] = u, u, u
		return nil
	})
	return byRef, err
}

// refKeys are user arguments sorted by kind, for one query over all three.
type refKeys struct {
	ids           []int64
	emails, uuids []string
}

func parseRefs(refs []string) (refKeys, error) {
	var k refKeys
	for _, r := range refs {
		r = strings.TrimSpace(r)
		switch {
		case r == "":
			return k, Refused("empty user reference")
		case isDigits(r):
			id, err := strconv.ParseInt(r, 10, 64)
			if err != nil || id <= 0 {
				return k, Refused("invalid user id %q", r)
			}
			k.ids = append(k.ids, id)
		case looksLikeUUID(r):
			k.uuids = append(k.uuids, strings.ToLower(r))
		case strings.Contains(r, "@"):
			k.emails = append(k.emails, strings.ToLower(r))
		default:
			return k, Refused("invalid user reference %q: want an ID, an email or a UUID", r)
		}
	}
	return k, nil
}

// matchRefs maps each argument to the user found for it (byRef is keyed by
// id text, lower-case email and uuid text) and names every one not found.
func matchRefs(refs []string, byRef map[string]UserRef) ([]UserRef, error) {
	var out []UserRef
	var missing []string
	seen := map[int64]bool{}
	for _, r := range refs {
		found, ok := byRef[refKey(r)]
		if !ok {
			missing = append(missing, r)
			continue
		}
		if !seen[found.ID] {
			seen[found.ID] = true
			found.Ref = r
			out = append(out, found)
		}
	}
	if len(missing) > 0 {
		if len(missing) > 5 {
			return nil, NotFound("users %s and %d more", strings.Join(missing[:5], ", "), len(missing)-5)
		}
		if len(missing) == 1 {
			return nil, NotFound("user %s", missing[0])
		}
		return nil, NotFound("users %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// missingRefs lists the references byRef has no user for.
func missingRefs(refs []string, byRef map[string]UserRef) []string {
	var out []string
	for _, r := range refs {
		if _, ok := byRef[refKey(r)]; !ok {
			out = append(out, r)
		}
	}
	return out
}

// refKey is the byRef key of a reference: ids without leading zeros,
// emails and UUIDs lower-case.
func refKey(r string) string {
	key := strings.ToLower(strings.TrimSpace(r))
	if isDigits(key) {
		n, _ := strconv.ParseInt(key, 10, 64)
		key = strconv.FormatInt(n, 10)
	}
	return key
}

// ResolveUser resolves exactly one user argument.
func ResolveUser(ctx context.Context, db DBTX, ref string) (UserRef, error) {
	us, err := ResolveUsers(ctx, db, []string{ref})
	if err != nil {
		return UserRef{}, err
	}
	return us[0], nil
}

// ResolveUsers is ResolveUsers on the client's handle.
func (c *Client) ResolveUsers(ctx context.Context, refs []string) ([]UserRef, error) {
	return ResolveUsers(ctx, c.db, refs)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// IDs returns the IDs of refs.
func IDs(refs []UserRef) []int64 {
	out := make([]int64, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}
