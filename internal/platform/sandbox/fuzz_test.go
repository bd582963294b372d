package sandbox

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeChildSpec feeds arbitrary bytes to the parser that reads
// the spec crossing from Run into the child. Whatever it accepts must
// be valid and must survive a round trip unchanged.
func FuzzDecodeChildSpec(f *testing.F) {
	base := childSpec{
		Version:     specVersion,
		Path:        "/usr/bin/echo",
		Argv:        []string{"echo", "hi", "\xff\xfe"},
		Env:         []string{"PATH=/usr/bin", "TERM=dumb"},
		Paths:       []pathRule{{Path: "/usr", Optional: true}, {Path: "/tmp/w", Write: true}},
		MaxFileSize: 1 << 20,
	}
	variants := []func(c *childSpec){
		func(c *childSpec) {},
		func(c *childSpec) { c.Env, c.Paths = nil, nil },
		func(c *childSpec) { c.Argv = []string{"a\x00b"} },
		func(c *childSpec) { c.Path = "relative" },
		func(c *childSpec) { c.Version = specVersion + 1 },
		func(c *childSpec) { c.Env = []string{childEnvKey + "=1"} },
		func(c *childSpec) { c.MaxFileSize = -5 },
		func(c *childSpec) { c.Paths = []pathRule{{Path: ""}} },
	}
	var valid []byte
	for _, v := range variants {
		c := base
		v(&c)
		b, err := encodeChildSpec(c)
		if err != nil {
			f.Fatal(err)
		}
		if valid == nil {
			valid = b
		}
		f.Add(b)
	}
	f.Add(append(append([]byte(nil), valid...), " {}"...))
	f.Add(bytes.Replace(valid, []byte(`"version"`), []byte(`"unknown":1,"version"`), 1))
	f.Add([]byte(`{"version":1,"path":"/bin/true","argv":["true"]}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeChildSpec(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("decode accepted an invalid spec: %v", err)
		}
		if !filepath.IsAbs(c.Path) || len(c.Argv) == 0 {
			t.Fatalf("decode accepted path %q argv %q", c.Path, c.Argv)
		}
		for _, kv := range c.Env {
			if strings.HasPrefix(kv, childEnvKey+"=") {
				t.Fatalf("decode accepted the reserved variable: %q", kv)
			}
		}
		enc, err := encodeChildSpec(c)
		if err != nil {
			t.Fatalf("re-encoding an accepted spec: %v", err)
		}
		c2, err := decodeChildSpec(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("round trip rejected %s: %v", enc, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the spec:\n%#v\n%#v", c, c2)
		}
	})
}

// FuzzValidateSpec checks that validateSpec rejects every Spec the
// child would refuse (so errors surface in the caller, not as a failed
// child) and that its rejections are all ErrInvalidSpec.
func FuzzValidateSpec(f *testing.F) {
	f.Add("echo", "hi", "/tmp", "PATH=/usr/bin", "/tmp", int64(0), int64(0), int64(0))
	f.Add("", "", "", "", "", int64(-1), int64(-1), int64(-1))
	f.Add("a\x00", "b", "tmp", "=x", "rel", int64(time.Second), int64(10), int64(10))
	f.Add("/bin/sh", "-c", "/", "NOEMA_SANDBOX_CHILD=1", "/", int64(0), int64(0), int64(0))

	f.Fuzz(func(t *testing.T, argv0, arg1, dir, env, wpath string, timeout, maxOut, fsize int64) {
		s := Spec{
			Argv:        []string{argv0, arg1},
			Dir:         dir,
			Env:         []string{env},
			Timeout:     time.Duration(timeout),
			MaxOutput:   maxOut,
			Writable:    []string{wpath},
			MaxFileSize: fsize,
		}
		err := validateSpec(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("validation error does not wrap ErrInvalidSpec: %v", err)
			}
			return
		}
		for _, v := range []string{argv0, arg1, dir, env, wpath} {
			if strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("accepted a NUL byte in %q", v)
			}
		}
		if argv0 == "" || !filepath.IsAbs(dir) || !filepath.IsAbs(wpath) || timeout < 0 || maxOut < 0 || fsize < 0 {
			t.Fatalf("accepted invalid spec %+v", s)
		}
		// What the parent accepts, the child must accept too.
		c := childSpec{
			Version:     specVersion,
			Path:        dir,
			Argv:        s.Argv,
			Env:         dedupEnv(s.Env),
			Paths:       []pathRule{{Path: dir}, {Path: wpath, Write: true}},
			MaxFileSize: fsize,
		}
		enc, err := encodeChildSpec(c)
		if err != nil {
			t.Fatalf("encoding: %v", err)
		}
		if _, err := decodeChildSpec(bytes.NewReader(enc)); err != nil {
			t.Fatalf("child rejects a spec the parent accepted: %v\n%s", err, enc)
		}
	})
}
