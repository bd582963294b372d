package power

import (
	"slices"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestInhibitorMatching(t *testing.T) {
	locks := []inhibitor{
		{What: "sleep:idle", Who: "Burner", Why: "Writing", Mode: "block"},
		{What: "shutdown", Who: "Updater", Why: "Installing", Mode: "delay"},
		{What: "handle-lid-switch", Who: "GNOME", Mode: "block"},
		{What: "shutdown:sleep", Who: "Backup", Mode: "block-weak"},
		{What: "sleepy", Who: "Pun", Mode: "block"},
	}
	names := func(in []inhibitor) []string {
		var out []string
		for _, l := range in {
			out = append(out, l.Who)
		}
		return out
	}
	if got := names(matching(locks, "sleep", true)); !slices.Equal(got, []string{"Burner", "Backup"}) {
		t.Errorf("sleep blockers = %v", got)
	}
	if got := names(matching(locks, "shutdown", true)); !slices.Equal(got, []string{"Backup"}) {
		t.Errorf("shutdown blockers = %v", got)
	}
	if got := names(matching(locks, "shutdown", false)); !slices.Equal(got, []string{"Updater"}) {
		t.Errorf("shutdown delayers = %v", got)
	}
	err := blockedError(suspend, matching(locks, "sleep", true))
	for _, want := range []string{"Burner", "Writing", "Backup", "2 inhibitor lock(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestParseProfiles(t *testing.T) {
	v := []map[string]dbus.Variant{
		{"Profile": dbus.MakeVariant("power-saver"), "Driver": dbus.MakeVariant("platform_profile")},
		{"Profile": dbus.MakeVariant(int32(3))},
		{"Driver": dbus.MakeVariant("x")},
		{"Profile": dbus.MakeVariant("balanced")},
		{"Profile": dbus.MakeVariant("balanced")},
	}
	got, err := parseProfiles(v)
	if err != nil || !slices.Equal(got, []string{"power-saver", "balanced"}) {
		t.Fatalf("parseProfiles = %v, %v", got, err)
	}
	if _, err := parseProfiles("balanced"); err == nil {
		t.Error("a string was accepted as a profile list")
	}
	if _, err := parseProfiles([]map[string]dbus.Variant{}); err == nil {
		t.Error("an empty list was accepted")
	}
}

func FuzzInhibitor(f *testing.F) {
	f.Add("sleep:shutdown", "block", "sleep")
	f.Add("::idle:", "delay", "")
	f.Add("shutdown", "block-weak", "shutdown")
	f.Fuzz(func(t *testing.T, what, mode, want string) {
		in := inhibitor{What: what, Mode: mode, Who: what, Why: mode}
		if in.Blocks(want) && !in.Covers(want) {
			t.Fatalf("%+v blocks %q without covering it", in, want)
		}
		if in.Blocks(want) && mode != "block" && mode != "block-weak" {
			t.Fatalf("mode %q blocks", mode)
		}
		if want != "" && !strings.Contains(what, strings.TrimSpace(want)) && in.Covers(want) {
			t.Fatalf("%q covers %q", what, want)
		}
		if got := matching([]inhibitor{in}, want, true); len(got) == 1 != in.Blocks(want) {
			t.Fatalf("matching disagrees with Blocks for %+v", in)
		}
		_ = in.String()
	})
}

// FuzzProfiles feeds the property parsers lists built from arbitrary
// entries: "key=value" pairs separated by ",", entries by ";", where a
// value's first byte picks its D-Bus type.
func FuzzProfiles(f *testing.F) {
	f.Add("Profile=sbalanced,Driver=sdbusmock;Profile=sperformance")
	f.Add("Profile=i7;Profile=s;Reason=sgame,ApplicationId=sorg.x,Profile=sperformance")
	f.Add("Profile=b1;=;;")
	f.Fuzz(func(t *testing.T, spec string) {
		var list []map[string]dbus.Variant
		for _, entry := range strings.Split(spec, ";") {
			m := map[string]dbus.Variant{}
			for _, kv := range strings.Split(entry, ",") {
				k, v, _ := strings.Cut(kv, "=")
				if v == "" {
					continue
				}
				switch v[0] {
				case 's':
					m[k] = dbus.MakeVariant(v[1:])
				case 'i':
					m[k] = dbus.MakeVariant(int32(len(v)))
				case 'b':
					m[k] = dbus.MakeVariant(len(v)%2 == 0)
				case 'a':
					m[k] = dbus.MakeVariant(strings.Split(v[1:], "|"))
				}
			}
			list = append(list, m)
		}
		names, err := parseProfiles(list)
		if err == nil {
			if len(names) == 0 {
				t.Fatal("no error and no profiles")
			}
			for i, n := range names {
				if n == "" || slices.Contains(names[:i], n) {
					t.Fatalf("bad profile list %q", names)
				}
			}
		}
		for _, h := range parseHolds(list) {
			_ = h.String()
		}
		if _, err := parseProfiles(spec); err == nil {
			t.Fatal("a string parsed as a profile list")
		}
	})
}
