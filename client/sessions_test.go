package client

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"testing"
)

// encodeSession builds session_data as Django's signing.dumps does (the
// signature is not checked by the reader, so any value stands in).
func encodeSession(t *testing.T, json string, compress bool) string {
	t.Helper()
	data := []byte(json)
	prefix := ""
	if compress {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(data)
		w.Close()
		data, prefix = b.Bytes(), "."
	}
	return prefix + base64.RawURLEncoding.EncodeToString(data) + ":1tCxyz:c2lnbmF0dXJl"
}

func TestSessionUserID(t *testing.T) {
	dict := `{"_auth_user_id":"42","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"abc"}`
	for _, c := range []struct {
		data string
		id   string
		ok   bool
	}{
		{encodeSession(t, dict, false), "42", true},
		{encodeSession(t, dict, true), "42", true},
		{encodeSession(t, `{"_auth_user_id":7}`, false), "7", true},
		{encodeSession(t, `{"cart":[1,2]}`, false), "", false},
		{encodeSession(t, `not json`, true), "", false},
		{"%%%:abc:def", "", false},
		{".AAAA:abc:def", "", false},
		{"", "", false},
		{"nocolons", "", false},
	} {
		id, ok := SessionUserID(c.data)
		if id != c.id || ok != c.ok {
			t.Errorf("SessionUserID(%q) = %q, %v; want %q, %v", c.data, id, ok, c.id, c.ok)
		}
	}
}

// Owner names a user only by a canonical decimal pk, as Django writes it.
func TestSessionOwner(t *testing.T) {
	var d SessionDecoder
	for pk, want := range map[string]int64{`"42"`: 42, `7`: 7, `"042"`: 0, `"+42"`: 0, `"0x2a"`: 0, `"4c4b1e0e-0000-4000-8000-000000000000"`: 0, `""`: 0} {
		id, ok := d.Owner(encodeSession(t, `{"_auth_user_id":`+pk+`}`, true))
		if id != want || ok != (want != 0) {
			t.Errorf("Owner of pk %s = %d, %v; want %d", pk, id, ok, want)
		}
	}
}

// Compressed sessions decoded one by one with a fresh zlib reader each,
// and with one SessionDecoder reused (what deleteSessions does).
func benchSessions(b *testing.B) []string {
	b.Helper()
	var out []string
	for i := 0; i < 1000; i++ {
		dict := fmt.Sprintf(`{"_auth_user_id":"%d","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"%064x","cart":"%0200d"}`, i, i, i)
		out = append(out, encodeSessionB(dict))
	}
	return out
}

func encodeSessionB(json string) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write([]byte(json))
	w.Close()
	return "." + base64.RawURLEncoding.EncodeToString(buf.Bytes()) + ":1tCxyz:c2lnbmF0dXJl"
}

func BenchmarkSessionUserIDFreshReader(b *testing.B) {
	s := benchSessions(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := SessionUserID(s[i%len(s)]); !ok {
			b.Fatal("no user")
		}
	}
}

func BenchmarkSessionDecoderReused(b *testing.B) {
	s := benchSessions(b)
	var d SessionDecoder
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := d.UserID(s[i%len(s)]); !ok {
			b.Fatal("no user")
		}
	}
}
