package seed

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
)

var (
	colsCompany   = []string{"id", "name", "created_at"}
	colsUser      = []string{"id", "password", "last_login", "is_superuser", "email", "first_name", "last_name", "phone", "ip_white_list", "language", "communication_language", "is_staff", "is_active", "type", "uuid", "date_joined", "company_id", "is_company_owner"}
	colsUserGroup = []string{"id", "user_id", "group_id"}
	colsUserPerm  = []string{"id", "user_id", "permission_id"}
)

const seedReferenceSQL = `
SELECT 'group', name, id FROM auth_group
UNION ALL SELECT 'status', name, id FROM rbac_tokenstatus
UNION ALL SELECT 'perm', ct.app_label || '.' || p.codename, p.id
          FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id`

// loadReference reads the ids of the groups, token statuses and
// permissions the migrations created.
func (s *seeder) loadReference(ctx context.Context, tx pgx.Tx) error {
	s.groupID, s.statusID = map[string]int32{}, map[string]int32{}
	perms := map[string]int32{}
	rows, err := tx.Query(ctx, seedReferenceSQL)
	if err != nil {
		return err
	}
	for rows.Next() {
		var kind, name string
		var id int32
		if err := rows.Scan(&kind, &name, &id); err != nil {
			rows.Close()
			return err
		}
		map[string]map[string]int32{"group": s.groupID, "status": s.statusID, "perm": perms}[kind][name] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range catalog.Groups() {
		if _, ok := s.groupID[g.Name]; !ok {
			return fmt.Errorf("seed: group %q is missing; run db migrate first", g.Name)
		}
	}
	for _, st := range []string{"sent", "used", "expired", "failed"} {
		if _, ok := s.statusID[st]; !ok {
			return fmt.Errorf("seed: token status %q is missing; run db migrate first", st)
		}
	}
	// Catalog order, not map order: the choice of grants must be deterministic.
	for _, p := range catalog.Permissions() {
		id, ok := perms[p.ID()]
		if !ok {
			return fmt.Errorf("seed: permission %s is missing; run db migrate first", p.ID())
		}
		if strings.HasPrefix(p.Codename, "view_") {
			s.viewPerms = append(s.viewPerms, id)
		} else {
			s.riskPerms = append(s.riskPerms, id)
		}
	}
	return nil
}

func (s *seeder) companySource() *genSource {
	return newGen(len(s.cos), func(cid int, g *genSource) {
		name, _ := s.companyName(cid)
		g.add(int64(cid), name, time.Unix(s.cos[cid-1].created, 0).UTC())
	})
}

var langWeights = []string{"en", "en", "en", "en", "de", "es", "fr", "it", "ja", "ko", "pt", "ru", "tr", "uk", "zh"}

func (s *seeder) userSource() *genSource {
	ri, r := newURand(), newURand()
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		p := s.identity(ri, id)
		r.at(s.seed, saltPassword, id)
		password := s.hashes[r.IntN(len(s.hashes))]
		if r.chance(0.03) {
			password = "!" + randString(r, alnum, 40)
		}
		var lastLogin any
		if u.lastLogin != 0 {
			lastLogin = time.Unix(u.lastLogin, 0).UTC()
		}
		lang := countries[u.country].lang
		switch x := r.Float64(); {
		case x < 0.2:
			lang = "en"
		case x < 0.25:
			lang = pick(r, langWeights)
		}
		comm := lang
		if r.chance(0.15) {
			comm = "en"
		}
		typ := catalog.TypeMerchant
		if u.has(fEnterprise) {
			typ = catalog.TypeEnterprise
		}
		var company any
		if u.company != 0 {
			company = int64(u.company)
		}
		var uuid [16]byte
		for i := range 2 {
			v := r.Uint64()
			for j := range 8 {
				uuid[i*8+j] = byte(v >> (8 * j))
			}
		}
		uuid[6] = uuid[6]&0x0f | 0x40 // version 4
		uuid[8] = uuid[8]&0x3f | 0x80 // RFC 4122 variant
		g.add(int64(id), password, lastLogin, false, p.email, p.first, p.last, p.phone, ipWhiteList(r),
			lang, comm, false, u.has(fActive), typ, uuid, time.Unix(u.joined, 0).UTC(), company, u.has(fOwner))
	})
}

// ipWhiteList is empty for most users; otherwise one to four entries —
// office addresses, IPv4 and IPv6 networks — in canonical form
// (networks masked to their prefix), comma-separated.
func ipWhiteList(r *urand) string {
	if !r.chance(0.28) {
		return ""
	}
	n := 1 + r.IntN(4)
	parts := make([]string, 0, n)
	for range n {
		switch x := r.IntN(10); {
		case x < 5:
			parts = append(parts, publicIPv4(r).String())
		case x < 8:
			bits := pick(r, []int{24, 28, 29, 30})
			parts = append(parts, netip.PrefixFrom(publicIPv4(r), bits).Masked().String())
		case x < 9:
			parts = append(parts, publicIPv6(r).String())
		default:
			bits := pick(r, []int{48, 56, 64})
			parts = append(parts, netip.PrefixFrom(publicIPv6(r), bits).Masked().String())
		}
	}
	return strings.Join(parts, ",")
}

// Public /8s of the regional registries (no private, loopback, multicast
// or documentation ranges).
var publicV4 = []byte{5, 24, 31, 37, 46, 50, 62, 66, 68, 73, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 93, 94, 95,
	98, 104, 109, 112, 114, 116, 121, 124, 134, 141, 146, 151, 176, 178, 185, 188, 193, 194, 195, 203, 212, 213, 217}

func publicIPv4(r *urand) netip.Addr {
	v := r.Uint32()
	return netip.AddrFrom4([4]byte{pick(r, publicV4), byte(v >> 16), byte(v >> 8), byte(1 + v%254)})
}

var publicV6 = [][2]byte{{0x2a, 0x02}, {0x2a, 0x01}, {0x2a, 0x00}, {0x26, 0x00}, {0x26, 0x07}, {0x24, 0x01}, {0x24, 0x0e}, {0x28, 0x00}}

func publicIPv6(r *urand) netip.Addr {
	var b [16]byte
	p := pick(r, publicV6)
	b[0], b[1] = p[0], p[1]
	for i := 2; i < 16; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < 16; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	if r.chance(0.5) { // many hosts have a short interface id: ::1, ::a
		clear(b[8:15])
	}
	return netip.AddrFrom16(b)
}

// groupSource writes each user's role group, API and status groups.
func (s *seeder) groupSource() *genSource {
	gid := func(name string) int64 { return int64(s.groupID[name]) }
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		uid := int64(id)
		if u.role != roleNone {
			g.add(g.nextID(), uid, gid(roleGroup[u.role]))
		}
		for _, f := range []struct {
			flag  uint16
			group string
		}{{fAPI, catalog.GroupAPI}, {fEmailNV, catalog.GroupEmailNotVerified}, {fKYCNV, catalog.GroupKYCNotVerified}, {fPhoneNV, catalog.GroupPhoneNotVerified}} {
			if u.has(f.flag) {
				g.add(g.nextID(), uid, gid(f.group))
			}
		}
	})
}

// permSource grants a few users extra permissions: mostly view_* ones, now
// and then something sensitive — the material `perms audit` looks for.
func (s *seeder) permSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		r.at(s.seed, saltPerms, id)
		if !r.chance(0.04) {
			return
		}
		var got [4]int32
		n := 1 + r.IntN(4)
		for k := range n {
			p := pick(r, s.viewPerms)
			if r.chance(0.15) {
				p = pick(r, s.riskPerms)
			}
			dup := false
			for _, q := range got[:k] {
				dup = dup || q == p
			}
			got[k] = p
			if !dup {
				g.add(g.nextID(), int64(id), p)
			}
		}
	})
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randString(r *urand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// Passwords are the clear-text passwords behind the seeded users' hashes
// (each user has one of them, or an unusable password): a demo database is
// meant to be logged into.
var Passwords = []string{"b2badmin-demo", "correct horse battery staple", "Passw0rd!2026"}

var seedHashCache sync.Map // "seed/iterations" → []string

// seedPasswordHashes computes one real Django PBKDF2 hash per demo
// password, with salts drawn from the seed. At a million iterations a hash
// costs a good fraction of a second, so a million users share these few
// (in parallel, once per process and seed).
func seedPasswordHashes(seed uint64, iterations int) []string {
	key := strconv.FormatUint(seed, 10) + "/" + strconv.Itoa(iterations)
	if v, ok := seedHashCache.Load(key); ok {
		return v.([]string)
	}
	out := make([]string, len(Passwords))
	var wg sync.WaitGroup
	for i, pw := range Passwords {
		r := &urand{Rand: rand.New(rand.NewPCG(mix(seed^saltPassword), uint64(i)))}
		salt := randString(r, alnum, 22)
		wg.Go(func() {
			dk, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iterations, 32)
			if err != nil {
				panic(err) // only for FIPS-forbidden parameters, which these are not
			}
			out[i] = fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, salt, base64.StdEncoding.EncodeToString(dk))
		})
	}
	wg.Wait()
	seedHashCache.Store(key, out)
	return out
}
