package network

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestParseSwitch(t *testing.T) {
	sw, err := parseSwitch("rfkill3", map[string]string{"index": "3\n", "type": "bluetooth\n", "name": "hci0\n", "soft": "1\n", "hard": "0\n"})
	if err != nil {
		t.Fatal(err)
	}
	if sw != (radioSwitch{Name: "rfkill3", Index: 3, Type: "bluetooth", Label: "hci0", Soft: true}) {
		t.Fatalf("parsed %+v", sw)
	}
	for _, bad := range []map[string]string{
		{"index": "x", "type": "wlan", "soft": "0", "hard": "0"},
		{"index": "1", "type": "wlan", "soft": "2", "hard": "0"},
		{"index": "1", "type": "", "soft": "0", "hard": "0"},
		{"index": "1", "type": "wlan", "soft": "0"},
		{"index": "99999999999", "type": "wlan", "soft": "0", "hard": "0"},
	} {
		if _, err := parseSwitch("rfkill1", bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
	for name, want := range map[string]bool{"rfkill0": true, "rfkill12": true, "rfkill": false, "rfkillx": false, "uevent": false, "rfkill-1": false} {
		if isSwitchName(name) != want {
			t.Errorf("isSwitchName(%q) = %v", name, !want)
		}
	}
}

func TestChangeEvent(t *testing.T) {
	ev := changeEvent(258, true)
	if len(ev) != 8 || binary.NativeEndian.Uint32(ev) != 258 || ev[4] != 0 || ev[5] != 2 || ev[6] != 1 || ev[7] != 0 {
		t.Fatalf("block event = %v", ev)
	}
	if ev := changeEvent(0, false); ev[6] != 0 || ev[5] != 2 {
		t.Fatalf("unblock event = %v", ev)
	}
}

func TestParseAdapters(t *testing.T) {
	objs := managedObjects{
		"/org/bluez/hci1":        {adapterIface: {"Powered": dbus.MakeVariant(false), "Name": dbus.MakeVariant("dongle")}},
		"/org/bluez/hci0":        {adapterIface: {"Powered": dbus.MakeVariant(true), "Alias": dbus.MakeVariant("laptop"), "Name": dbus.MakeVariant("x")}},
		"/org/bluez/hci0/dev_00": {"org.bluez.Device1": {"Connected": dbus.MakeVariant(true)}},
		"/org/bluez":             {"org.bluez.AgentManager1": {}},
	}
	got, err := parseAdapters(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (btAdapter{"/org/bluez/hci0", "laptop", true}) || got[1] != (btAdapter{"/org/bluez/hci1", "dongle", false}) {
		t.Fatalf("adapters = %+v", got)
	}
	objs["/org/bluez/hci2"] = map[string]map[string]dbus.Variant{adapterIface: {"Powered": dbus.MakeVariant("yes")}}
	if _, err := parseAdapters(objs); err == nil {
		t.Error("a string Powered was accepted")
	}
}

// FuzzParseSwitch feeds arbitrary sysfs attribute contents.
func FuzzParseSwitch(f *testing.F) {
	f.Add("rfkill0", "0\n", "wlan\n", "phy0\n", "0\n", "0\n")
	f.Add("rfkill4294967295", "4294967295", "gps", "", "1", "1")
	f.Add("rfkill1", " 1 ", "\x00", "\n", "1\n\n", "")
	f.Fuzz(func(t *testing.T, name, index, typ, label, soft, hard string) {
		sw, err := parseSwitch(name, map[string]string{"index": index, "type": typ, "name": label, "soft": soft, "hard": hard})
		if err != nil {
			return
		}
		if sw.Type == "" || sw.Type != strings.TrimSpace(sw.Type) {
			t.Fatalf("type %q", sw.Type)
		}
		if sw.Soft != (strings.TrimSpace(soft) == "1") || sw.Hard != (strings.TrimSpace(hard) == "1") {
			t.Fatalf("flags %+v from %q %q", sw, soft, hard)
		}
		_ = sw.String()
	})
}

// FuzzParseAdapters feeds object trees built from arbitrary entries:
// "path|interface|property|value" lines, where the value's first byte
// picks its D-Bus type.
func FuzzParseAdapters(f *testing.F) {
	f.Add("/org/bluez/hci0|org.bluez.Adapter1|Powered|b1\n/org/bluez/hci0|org.bluez.Adapter1|Alias|slaptop")
	f.Add("/org/bluez/hci0|org.bluez.Adapter1|Powered|sno")
	f.Add("/a|org.bluez.Adapter1|Name|i3\n/b|org.bluez.Adapter1|Powered|b0")
	f.Fuzz(func(t *testing.T, spec string) {
		objs := managedObjects{}
		for _, line := range strings.Split(spec, "\n") {
			parts := strings.SplitN(line, "|", 4)
			if len(parts) != 4 || parts[3] == "" {
				continue
			}
			path, iface, prop, v := dbus.ObjectPath(parts[0]), parts[1], parts[2], parts[3]
			if objs[path] == nil {
				objs[path] = map[string]map[string]dbus.Variant{}
			}
			if objs[path][iface] == nil {
				objs[path][iface] = map[string]dbus.Variant{}
			}
			switch v[0] {
			case 'b':
				objs[path][iface][prop] = dbus.MakeVariant(v == "b1")
			case 's':
				objs[path][iface][prop] = dbus.MakeVariant(v[1:])
			case 'i':
				objs[path][iface][prop] = dbus.MakeVariant(int32(len(v)))
			default:
				objs[path][iface][prop] = dbus.MakeVariant([]string{v})
			}
		}
		got, err := parseAdapters(objs)
		if err != nil {
			return
		}
		for i, a := range got {
			if i > 0 && got[i-1].Path >= a.Path {
				t.Fatalf("adapters out of order: %v", got)
			}
			want, _ := objs[a.Path][adapterIface]["Powered"].Value().(bool)
			if a.Powered != want {
				t.Fatalf("%s powered %v, want %v", a.Path, a.Powered, want)
			}
			_ = a.label()
		}
	})
}
