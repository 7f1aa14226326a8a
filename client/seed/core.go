package seed

import (
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The structure of the demo data — who is enterprise or merchant, who owns
// which company, who works where, who is active — comes from one
// sequential pass (buildCore) kept as a compact record per user and per
// company. Everything else (names, logins, wallets…) is derived per user
// from a PCG stream seeded with (seed, table, user id), so every table can
// be generated on its own, in any order, and still be the same.

// Role groups, in userCore.role (0 = none).
const (
	roleNone uint8 = iota
	roleEnterpriseOwner
	roleEnterpriseStaff
	roleMerchantOwner
	roleMerchantStaff
	roleLegalOwner
	roleLegalStaff
)

var roleGroup = [...]string{"", "Enterprise owner", "Enterprise staff", "Merchant owner", "Merchant staff", "Legal merchant owner", "Legal merchant staff"}

// userCore flags.
const (
	fEnterprise uint16 = 1 << iota
	fActive
	fOwner
	fAPI
	fEmailNV
	fPhoneNV
	fKYCNV
	fNoPhone
)

type userCore struct {
	joined    int64 // unix seconds
	lastLogin int64 // unix seconds, 0 = never
	company   int32 // 0 = none
	flags     uint16
	role      uint8
	country   uint8
}

func (u *userCore) has(f uint16) bool { return u.flags&f != 0 }

type companyCore struct {
	created    int64
	owner      int32
	enterprise bool
	legal      bool
	country    uint8
}

// Salts separate the per-user streams of the different tables.
const (
	saltCore uint64 = iota + 1
	saltIdentity
	saltCompany
	saltGroups
	saltPerms
	saltTOTP
	saltEmailDevice
	saltAuthLog
	saltAuthToken
	saltWallet
	saltTransfer
	saltCommission
	saltJWT
	saltSession
	saltPassword
)

type seeder struct {
	seed     uint64
	n        int
	now      time.Time // the reference moment (Options.Now)
	start    time.Time // the first registration
	users    []userCore
	cos      []companyCore
	hashes   []string
	progress seedProgress

	groupID   map[string]int32
	statusID  map[string]int32
	viewPerms []int32 // view_* permissions, the usual extra grant
	riskPerms []int32 // the rest: rarer, more sensitive grants

	countryCum []int  // cumulative country weights
	cr         *urand // scratch stream for companyName

	traceW    io.Writer
	lastTrace time.Time
}

func newSeeder(o Options) *seeder {
	s := &seeder{seed: uint64(o.Seed), n: o.Users, now: o.Now.UTC(), cr: newURand(), traceW: o.Trace, lastTrace: time.Now()}
	// Registrations span six and a half years before the reference.
	s.start = s.now.AddDate(-6, -6, 0)
	s.progress = seedProgress{fn: o.Progress, users: int64(o.Users)}
	sum := 0
	for _, c := range countries {
		sum += c.weight
		s.countryCum = append(s.countryCum, sum)
	}
	return s
}

// mix is SplitMix64's finaliser: it spreads neighbouring ids over the
// whole PCG state space.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// urand is a reusable per-unit generator: at() reseeds it in place.
type urand struct {
	pcg rand.PCG
	*rand.Rand
}

func newURand() *urand {
	u := &urand{}
	u.Rand = rand.New(&u.pcg)
	return u
}

func (u *urand) at(seed, salt uint64, id int) *urand {
	u.pcg.Seed(mix(seed^salt*0x632be59bd9b4e019), mix(uint64(id)+salt<<40))
	return u
}

func (u *urand) chance(p float64) bool { return u.Float64() < p }

func pick[T any](r *urand, list []T) T { return list[r.IntN(len(list))] }

func (s *seeder) pickCountry(r *rand.Rand) uint8 {
	x := r.IntN(s.countryCum[len(s.countryCum)-1])
	for i, c := range s.countryCum {
		if x < c {
			return uint8(i)
		}
	}
	return 0
}

// buildCore makes the structure in one sequential pass. Registration
// dates grow with the id (ids are handed out in order of registration) and
// get denser towards the present, as a growing business's do.
func (s *seeder) buildCore() {
	r := rand.New(rand.NewPCG(mix(s.seed^saltCore), mix(saltCore)))
	s.users = make([]userCore, s.n)
	s.cos = make([]companyCore, 0, s.n/5+1)
	var entCos, merCos []int32
	start, span := s.start.Unix(), s.now.Sub(s.start).Seconds()
	now := s.now.Unix()
	for i := range s.users {
		u := &s.users[i]
		id := int32(i + 1)
		f := (float64(i) + r.Float64()) / float64(s.n)
		u.joined = start + int64(span*math.Sqrt(f))
		ent := r.Float64() < 0.22
		cos := &merCos
		if ent {
			cos = &entCos
			u.flags |= fEnterprise
		}
		x := r.Float64()
		var pActive, pAPI, pEmail, pPhone, pKYC float64
		switch {
		case x < 0.19 || (len(*cos) == 0 && x < 0.88): // opens a company
			co := companyCore{created: u.joined, owner: id, enterprise: ent, legal: !ent && r.Float64() < 0.4, country: s.pickCountry(r)}
			s.cos = append(s.cos, co)
			u.company = int32(len(s.cos))
			*cos = append(*cos, u.company)
			u.country = co.country
			u.flags |= fOwner
			u.role = roleMerchantOwner
			if ent {
				u.role = roleEnterpriseOwner
			} else if co.legal {
				u.role = roleLegalOwner
			}
			pActive, pAPI, pEmail, pPhone, pKYC = 0.94, 0.32, 0.01, 0.03, 0
		case x < 0.88: // invited to an existing company of its type
			u.company = (*cos)[r.IntN(len(*cos))]
			co := &s.cos[u.company-1]
			u.country = co.country
			if r.Float64() < 0.2 {
				u.country = s.pickCountry(r)
			}
			u.role = roleMerchantStaff
			if ent {
				u.role = roleEnterpriseStaff
			} else if co.legal {
				u.role = roleLegalStaff
			}
			pActive, pAPI, pEmail, pPhone, pKYC = 0.91, 0.06, 0.03, 0.07, 0.15
		default: // registered, never joined or opened a company
			u.country = s.pickCountry(r)
			pActive, pAPI, pEmail, pPhone, pKYC = 0.78, 0, 0.35, 0.4, 0.75
		}
		for _, p := range []struct {
			p float64
			f uint16
		}{{pActive, fActive}, {pAPI, fAPI}, {pEmail, fEmailNV}, {pPhone, fPhoneNV}, {pKYC, fKYCNV}} {
			if r.Float64() < p.p {
				u.flags |= p.f
			}
		}
		if r.Float64() < 0.03 {
			u.flags |= fNoPhone | fPhoneNV
		}
		pLogin := 0.55
		if u.has(fActive) {
			pLogin = 0.96
		}
		if r.Float64() < pLogin {
			// Heavily skewed towards the recent past, never before joining.
			back := float64(now-u.joined) * math.Pow(r.Float64(), 3)
			u.lastLogin = max(now-int64(back), u.joined+60)
			if u.lastLogin >= now {
				u.lastLogin = 0
			}
		}
	}
}

// identity is a user's names and contacts: a pure function of the id, so
// that every table that needs an email or a phone can recompute it.
type identity struct{ first, last, email, phone string }

var foldASCII = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "é", "e", "è", "e", "ê", "e", "ë", "e", "á", "a", "à", "a", "â", "a",
	"ã", "a", "í", "i", "ì", "i", "ó", "o", "ò", "o", "ô", "o", "õ", "o", "ú", "u", "ù", "u", "ñ", "n", "ç", "c",
	"ł", "l", "ś", "s", "ź", "z", "ż", "z", "ć", "c", "ń", "n", "ą", "a", "ę", "e", "ı", "i", "ş", "s", "ğ", "g",
	"î", "i")

func slug(name string) string {
	name = foldASCII.Replace(strings.ToLower(name))
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, name)
}

var globalMail = []string{"gmail.com", "gmail.com", "outlook.com", "proton.me", "icloud.com", "yahoo.com", "hotmail.com"}

func (s *seeder) identity(r *urand, id int) identity {
	u := &s.users[id-1]
	c := &countries[u.country]
	r.at(s.seed, saltIdentity, id)
	var p identity
	p.first, p.last = pick(r, c.names.first), pick(r, c.names.last)
	f, l, n := slug(p.first), slug(p.last), strconv.Itoa(id)
	var local string
	switch r.IntN(6) {
	case 0:
		local = f + "." + l + n
	case 1:
		local = f[:1] + l + n
	case 2:
		local = f + l + n
	case 3:
		local = f + "_" + l + n
	case 4:
		local = l + "." + f + n
	default:
		local = f + n
	}
	var domain string
	switch {
	case u.company != 0 && r.Float64() < 0.45:
		_, domain = s.companyName(int(u.company))
	case r.Float64() < 0.65:
		domain = pick(r, c.mailDomain)
	default:
		domain = pick(r, globalMail)
	}
	// The id inside the local part makes every address unique, whatever its case.
	p.email = local + "@" + domain
	if r.Float64() < 0.04 {
		p.email = strings.ToUpper(local[:1]) + local[1:] + "@" + domain
	}
	if !u.has(fNoPhone) {
		b := make([]byte, 0, 16)
		b = append(b, '+')
		b = append(b, c.cc...)
		b = append(b, pick(r, c.prefixes)...)
		for range c.rest {
			b = append(b, byte('0'+r.IntN(10)))
		}
		p.phone = string(b)
	}
	return p
}

var tldOf = map[string]string{"GB": ".co.uk", "DE": ".de", "FR": ".fr", "ES": ".es", "IT": ".it", "PL": ".pl", "CH": ".ch", "JP": ".co.jp", "UA": ".com.ua", "EE": ".ee", "CY": ".com.cy", "AE": ".ae"}

// companyName is the name and mail domain of company cid.
func (s *seeder) companyName(cid int) (name, domain string) {
	co := &s.cos[cid-1]
	c := &countries[co.country]
	r := s.cr.at(s.seed, saltCompany, cid)
	a, b, ind := pick(r, companyWords[0]), pick(r, companyWords[1]), pick(r, companyWords[2])
	if r.IntN(2) == 0 {
		name = a + b + " " + ind
	} else {
		name = a + " " + b + " " + ind
	}
	name += " " + pick(r, c.suffixes)
	tld := ".com"
	if t, ok := tldOf[c.code]; ok && r.IntN(2) == 0 {
		tld = t
	}
	domain = strings.ToLower(a+b) + tld
	if r.IntN(3) == 0 {
		domain = strings.ToLower(a+b) + "-" + strings.ToLower(ind) + tld
	}
	return name, domain
}
