package seed

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

var (
	colsTOTP         = []string{"id", "user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance", "drift", "last_t", "throttling_failure_timestamp", "throttling_failure_count", "created_at", "last_used_at"}
	colsEmailDevice  = []string{"id", "user_id", "name", "confirmed", "token", "valid_until", "email", "throttling_failure_timestamp", "throttling_failure_count", "last_generated_timestamp", "created_at", "last_used_at"}
	colsAuthLog      = []string{"id", "user_id", "ip", "created_at", "result", "device_type", "geolocation"}
	colsAuthToken    = []string{"id", "user_id", "sent_at", "destination", "token", "status_id"}
	colsOutstanding  = []string{"id", "user_id", "jti", "token", "created_at", "expires_at"}
	colsBlacklisted  = []string{"id", "token_id", "blacklisted_at"}
	colsSession      = []string{"session_key", "session_data", "expire_date"}
	colsSessionOwner = []string{"session_key", "user_id", "decoded"}
)

func ts(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

// between is a uniform moment in [a, b).
func between(r *urand, a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + r.Int64N(b-a)
}

func (s *seeder) totpSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		r.at(s.seed, saltTOTP, id)
		p := 0.1
		if u.has(fOwner) {
			p = 0.55
		} else if u.company != 0 {
			p = 0.35
		}
		if !r.chance(p) {
			return
		}
		var key [20]byte
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		created := between(r, u.joined, s.now.Unix())
		confirmed := r.chance(0.92)
		var lastUsed any
		lastT := int64(-1)
		if confirmed && u.lastLogin > created {
			lastUsed, lastT = ts(u.lastLogin), u.lastLogin/30
		}
		drift := int16(0)
		if r.chance(0.05) {
			drift = int16(r.IntN(3) - 1)
		}
		var thrTS any
		thrN := int32(0)
		if r.chance(0.03) && u.lastLogin != 0 {
			thrTS, thrN = ts(u.lastLogin-int64(r.IntN(3600))), int32(1+r.IntN(3))
		}
		g.add(int32(g.nextID()), int64(id), pick(r, otpNames), confirmed, hex.EncodeToString(key[:]), int16(30), int64(0), int16(6), int16(1),
			drift, lastT, thrTS, thrN, ts(created), lastUsed)
	})
}

func (s *seeder) emailDeviceSource() *genSource {
	r, ri := newURand(), newURand()
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		r.at(s.seed, saltEmailDevice, id)
		if !r.chance(0.12) {
			return
		}
		created := between(r, u.joined, s.now.Unix())
		confirmed := r.chance(0.9)
		// No pending token: valid_until is the creation time, as django-otp's default.
		var token, lastGen, lastUsed, email any
		validUntil := ts(created)
		if u.lastLogin > created {
			lastGen, lastUsed = ts(u.lastLogin-30), ts(u.lastLogin)
			if r.chance(0.1) { // a code still waiting to be typed
				token = strconv.Itoa(100000 + r.IntN(900000))
				validUntil = ts(u.lastLogin + 300)
				lastUsed = nil
			}
		}
		if r.chance(0.15) { // codes go to another address than the login
			p := s.identity(ri, id)
			email = slug(p.first) + "." + slug(p.last) + strconv.Itoa(id) + "@" + pick(r, globalMail)
		}
		g.add(int32(g.nextID()), int64(id), "email", confirmed, token, validUntil, email, nil, int32(0), lastGen, ts(created), lastUsed)
	})
}

// authLogSource writes the API sessions list: logins from a user's one or
// two usual addresses, now and then a failure from somewhere else.
func (s *seeder) authLogSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		r.at(s.seed, saltAuthLog, id)
		if u.lastLogin == 0 || !r.chance(0.4) {
			return
		}
		c := &countries[u.country]
		home := []any{publicIPv4(r), publicIPv4(r)}
		if r.chance(0.15) {
			home[1] = publicIPv6(r)
		}
		homeCity := pick(r, c.cities) + ", " + c.name
		device := pick(r, deviceTypes)
		n := 1 + r.IntN(3) + r.IntN(4)
		t := u.lastLogin
		for k := range n {
			ip, geo, result, dev := home[r.IntN(2)], homeCity, "success", device
			if k > 0 && r.chance(0.12) {
				result = "failure"
				if r.chance(0.5) {
					o := &countries[r.IntN(len(countries))]
					ip, geo, dev = publicIPv4(r), pick(r, o.cities)+", "+o.name, pick(r, deviceTypes)
				}
			} else if r.chance(0.2) {
				geo = pick(r, c.cities) + ", " + c.name
				dev = pick(r, deviceTypes)
			}
			g.add(g.nextID(), int64(id), ip, ts(t), result, dev, geo)
			t -= 60 + r.Int64N(max(1, (t-u.joined)/int64(n)))
			if t <= u.joined {
				break
			}
		}
	})
}

// authTokenSource writes the list of sent tokens: one-time codes by SMS or
// email, verification links by email.
func (s *seeder) authTokenSource() *genSource {
	r, ri := newURand(), newURand()
	now := s.now.Unix()
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		r.at(s.seed, saltAuthToken, id)
		pending := u.has(fEmailNV) || u.has(fPhoneNV)
		if !pending && !r.chance(0.25) {
			return
		}
		p := s.identity(ri, id)
		n := 1 + r.IntN(3)
		for k := range n {
			sent := now - int64(float64(now-u.joined)*r.Float64()*r.Float64())
			dest, token := p.email, strconv.Itoa(100000+r.IntN(900000))
			if p.phone != "" && r.chance(0.4) {
				dest = p.phone
			} else if r.chance(0.3) {
				token = randString(r, alnum, 32)
			}
			status := "used"
			switch x := r.Float64(); {
			case now-sent < 600 || (pending && k == n-1 && x < 0.5):
				status = "sent"
			case x < 0.2:
				status = "expired"
			case x < 0.27:
				status = "failed"
			}
			g.add(g.nextID(), int64(id), ts(sent), dest, token, s.statusID[status])
		}
	})
}

// jwts calls fn for each refresh token simplejwt handed out to user id:
// the outstanding and blacklisted tables are generated by two passes over
// the same stream, so the blacklist's token ids line up.
func (s *seeder) jwts(r *urand, id int, fn func(jti string, created, expires, blacklisted int64)) {
	u := &s.users[id-1]
	r.at(s.seed, saltJWT, id)
	p := 0.08
	if u.has(fAPI) {
		p = 0.6
	}
	if u.lastLogin == 0 || !r.chance(p) {
		return
	}
	now := s.now.Unix()
	for range 1 + r.IntN(3) {
		created := u.lastLogin - r.Int64N(30*86400)
		if created < u.joined {
			created = u.lastLogin
		}
		expires := created + 7*86400
		var black int64
		if !u.has(fActive) { // deactivation revokes every refresh token
			black = min(max(u.lastLogin, created)+3600, now-1)
		} else if r.chance(0.1) { // logged out
			black = between(r, created, min(expires, now))
		}
		fn(randString(r, "0123456789abcdef", 32), created, expires, black)
	}
}

const jwtHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" // {"alg":"HS256","typ":"JWT"}

func (s *seeder) outstandingSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		s.jwts(r, id, func(jti string, created, expires, _ int64) {
			claims := `{"token_type":"refresh","exp":` + strconv.FormatInt(expires, 10) + `,"iat":` + strconv.FormatInt(created, 10) +
				`,"jti":"` + jti + `","user_id":` + strconv.Itoa(id) + `}`
			token := jwtHeader + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "." + randString(r, b64url, 43)
			g.add(g.nextID(), int64(id), jti, token, ts(created), ts(expires))
		})
	})
}

func (s *seeder) blacklistedSource() *genSource {
	r := newURand()
	var tokenID int64
	return newGen(s.n, func(id int, g *genSource) {
		s.jwts(r, id, func(_ string, _, _, black int64) {
			tokenID++
			if black != 0 {
				g.add(g.nextID(), tokenID, ts(black))
			}
		})
	})
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sessionSource writes Django sessions of recently active users, encoded
// as django.core.signing.dumps(…, compress=True) does, which is what
// Django's session backends call: URL-safe base64 (no padding) of the
// compact JSON session dict — or, when zlib makes it shorter, "." and the
// base64 of the compressed bytes — then ":", the base62 timestamp, ":",
// the signature. Django compresses whenever zlib saves more than a byte,
// which even a bare login session's dict does (176 bytes to 134), so
// nearly every seeded session is compressed, as real ones are; about a
// third carry a larger dict (a language, recently viewed wallets). The
// signing key is unknown, so the signature is merely well-formed.
func (s *seeder) sessionSource() *genSource {
	r := newURand()
	var enc sessionEncoder
	return newGen(s.n, func(id int, g *genSource) {
		s.sessions(r, id, func(key string, dict []byte, created int64) {
			g.add(key, enc.encode(dict, created, r), ts(created+14*86400))
		})
	})
}

// sessionOwnerSource writes b2badmin_session_owner for the same sessions
// (the same random stream, so the same keys), already decoded: the seed
// knows whose each session is, and the triggers that queue new keys do
// not fire under the seed's session_replication_role.
func (s *seeder) sessionOwnerSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		s.sessions(r, id, func(key string, _ []byte, _ int64) {
			_ = randString(r, b64url, 43) // the signature encode draws
			g.add(key, int64(id), true)
		})
	})
}

// sessions generates user id's sessions: key, JSON dict, creation time.
// Both sources above call it; fn must draw the signature (43 characters)
// from r after each call, as the encoder does, to keep the streams equal.
func (s *seeder) sessions(r *urand, id int, fn func(key string, dict []byte, created int64)) {
	u := &s.users[id-1]
	now := s.now.Unix()
	r.at(s.seed, saltSession, id)
	if !u.has(fActive) || u.lastLogin < now-60*86400 || !r.chance(0.35) {
		return
	}
	for range 1 + r.IntN(2) {
		created := u.lastLogin - r.Int64N(3*86400)
		created = max(created, u.joined)
		var b strings.Builder
		b.WriteString(`{"_auth_user_id":"` + strconv.Itoa(id) + `","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"`)
		b.WriteString(randString(r, "0123456789abcdef", 64))
		b.WriteByte('"')
		if r.chance(0.35) {
			b.WriteString(`,"_language":"en","recent_wallets":[`)
			for i := range 8 + r.IntN(24) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"currency":"USDT","network":"TRC20","id":` + strconv.Itoa(r.IntN(1_000_000)) + `}`)
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
		dict := b.String()
		key := randString(r, "abcdefghijklmnopqrstuvwxyz0123456789", 32)
		fn(key, []byte(dict), created)
	}
}

// sessionEncoder is signing.dumps(compress=True) with one reused zlib
// writer: compress, and keep the compressed form only when it is shorter
// by more than a byte (Django's rule). Django compresses at zlib's default
// level; this writer uses the fastest, whose stream any zlib reader
// (Django's loads, b2badmin's decoder) reads the same: at the default
// level the session step took 28 s of a 3,000,000-user seed, now 16 s.
type sessionEncoder struct {
	zw  *zlib.Writer
	buf bytes.Buffer
}

func (e *sessionEncoder) encode(dict []byte, created int64, r *urand) string {
	if e.zw == nil {
		e.zw, _ = zlib.NewWriterLevel(&e.buf, zlib.BestSpeed)
	}
	e.buf.Reset()
	e.zw.Reset(&e.buf)
	_, _ = e.zw.Write(dict)
	_ = e.zw.Close()
	payload := base64.RawURLEncoding.EncodeToString(dict)
	if e.buf.Len() < len(dict)-1 {
		payload = "." + base64.RawURLEncoding.EncodeToString(e.buf.Bytes())
	}
	return payload + ":" + base62(created) + ":" + randString(r, b64url, 43)
}

func base62(n int64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 62 {
		b = append([]byte{digits[n%62]}, b...)
	}
	return string(b)
}
