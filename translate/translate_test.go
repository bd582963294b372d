package translate

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday

type want struct {
	status  Status
	actions []string
	target  map[string]any // checked on the first step
}

func check(t *testing.T, tr *Translator, text string, w want) {
	t.Helper()
	p := tr.Translate(text, testNow)
	if p.Status != w.status {
		t.Errorf("%q: status %s (%v %v), want %s", text, p.Status, p.Steps, p.Questions, w.status)
		return
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.Action)
	}
	if strings.Join(got, ",") != strings.Join(w.actions, ",") {
		t.Errorf("%q: actions %v, want %v", text, got, w.actions)
		return
	}
	if w.target != nil {
		var tg map[string]any
		json.Unmarshal(p.Steps[0].Target, &tg)
		for k, v := range w.target {
			if gv, ok := tg[k]; !ok || !equalish(gv, v) {
				t.Errorf("%q: target %s = %v, want %v (whole: %v)", text, k, tg[k], v, tg)
			}
		}
	}
}

func equalish(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return strings.EqualFold(string(ab), string(bb))
}

func TestTranslate(t *testing.T) {
	tr := New(testCatalog(t))
	cases := []struct {
		text string
		w    want
	}{
		{"switch to the dark theme", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "dark"}}},
		{"could you please turn on dark mode", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "dark"}}},
		{"brightness to seventy five percent", want{Ready, []string{"desktop.brightness.set"}, map[string]any{"percent": 75}}},
		{"a bit brighter please", want{Ready, []string{"desktop.brightness.set"}, map[string]any{"delta": 10}}},
		{"lower the volume by 20", want{Ready, []string{"desktop.volume.set"}, map[string]any{"delta": -20}}},
		{"set the volume to half", want{Ready, []string{"desktop.volume.set"}, map[string]any{"percent": 50}}},
		{"set a timer for an hour and a half", want{Ready, []string{"timer.start"}, map[string]any{"seconds": 5400}}},
		{"remind me to feed the cat in 20 minutes", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-02T10:20:00Z"}}},
		{"remind me next monday at noon to book flights", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-09T12:00:00Z"}}},
		{"turn off bluetooth", want{Ready, []string{"network.bluetooth.set"}, map[string]any{"enabled": false}}},
		{"turn on wifi and bluetooth", want{Ready, []string{"network.wifi.set", "network.bluetooth.set"}, map[string]any{"enabled": true}}},
		{"switch off wifi, bluetooth and turn on airplane mode", want{Ready, []string{"network.wifi.set", "network.bluetooth.set", "network.airplane.set"}, map[string]any{"enabled": false}}},
		{"turn off wifi, bluetooth and night light", want{Ready, []string{"network.wifi.set", "network.bluetooth.set", "desktop.nightlight.set"}, map[string]any{"enabled": false}}},
		{"mute the sound, then switch to light mode", want{Ready, []string{"desktop.volume.mute", "desktop.theme.set"}, map[string]any{"muted": true}}},
		{"start a new timer", want{Clarify, nil, nil}},
		{"could you start a timer for me", want{Clarify, nil, nil}},
		{"set a timer that rings in 12 minutes", want{Ready, []string{"timer.start"}, map[string]any{"seconds": 720}}},
		{"set a timer for 3 minutes and another for 8 minutes", want{Ready, []string{"timer.start", "timer.start"}, map[string]any{"seconds": 180}}},
		{"add alarms for 6 am and 6:30 am", want{Ready, []string{"reminder.create", "reminder.create"}, map[string]any{"at": "2026-03-03T06:00:00Z"}}},
		{"set an alarm for 04:45 and one for 18:10", want{Ready, []string{"reminder.create", "reminder.create"}, map[string]any{"at": "2026-03-03T04:45:00Z"}}},
		{"are there meetings today between 2 and 4", want{Ready, []string{"calendar.event.list"}, nil}},
		{"shave 2 minutes off the egg timer", want{Clarify, nil, nil}},
		{"check what is on my calendar for friday", want{Ready, []string{"calendar.event.list"}, map[string]any{"from": "2026-03-06T00:00:00Z"}}},
		{"check my calendar for friday", want{Ready, []string{"calendar.event.list"}, map[string]any{"from": "2026-03-06T00:00:00Z"}}},
		{"restart the cups service", want{Ready, []string{"service.restart"}, map[string]any{"unit": "cups"}}},
		{"is docker running", want{Ready, []string{"service.status"}, map[string]any{"unit": "docker"}}},
		{"install htop", want{Ready, []string{"package.install"}, map[string]any{"name": "htop"}}},
		{"switch to balanced power mode", want{Ready, []string{"power.profile.set"}, map[string]any{"profile": "balanced"}}},
		{"set the brightness", want{Clarify, nil, nil}},
		{"set a timer", want{Clarify, nil, nil}},
		{"what is the capital of peru", want{Rejected, nil, nil}},
		{"order a pizza with extra cheese", want{Rejected, nil, nil}},
		{"", want{Rejected, nil, nil}},
	}
	for _, c := range cases {
		check(t, tr, c.text, c.w)
	}
}

func TestTypos(t *testing.T) {
	tr := New(testCatalog(t))
	check(t, tr, "set the brightnes to 40", want{Ready, []string{"desktop.brightness.set"}, map[string]any{"percent": 40}})
	check(t, tr, "turn the volumme down", want{Ready, []string{"desktop.volume.set"}, nil})
}

func TestNeverAShellString(t *testing.T) {
	tr := New(testCatalog(t))
	p := tr.Translate("run ls -la /tmp", testNow)
	if p.Status != Ready || p.Steps[0].Action != "shell.run" {
		t.Fatalf("%+v", p)
	}
	var tg struct{ Argv []string }
	json.Unmarshal(p.Steps[0].Target, &tg)
	if strings.Join(tg.Argv, "|") != "ls|-la|/tmp" {
		t.Fatalf("argv %q", tg.Argv)
	}
}

func FuzzTranslate(f *testing.F) {
	tr := New(testCatalog(f))
	for _, s := range []string{"enable dark mode", "remind me tomorrow at 9 to x", "set volume to 120%", "and and and", ", , ,", "in in in in", "turn on 9:99pm",
		// Many conjunctions: the ways to split them grow exponentially,
		// the work a translation may do does not.
		"\x01\x01;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;\xbe", strings.Repeat("a ; ", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2000 {
			return
		}
		p := tr.Translate(s, testNow)
		if p.Status == Ready && len(p.Steps) == 0 {
			t.Fatal("READY without steps")
		}
		for _, st := range p.Steps {
			if !json.Valid(st.Target) {
				t.Fatalf("invalid target %s", st.Target)
			}
		}
	})
}

// BenchmarkT1 measures in-process translation of requests a template
// reads, and reports the 95th percentile.
func BenchmarkT1(b *testing.B) {
	tr := New(testCatalog(b))
	texts := []string{
		"switch to the dark theme", "set the brightness to 35 percent", "turn off bluetooth",
		"remind me to stretch in 45 minutes", "restart the cups service", "set a timer for ten minutes",
		"mute the sound", "switch to balanced power mode", "install htop", "turn on wifi and bluetooth",
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		tr.Translate(texts[i%len(texts)], testNow)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
}

// TestListBorrowsVerb checks that every part of a list takes the verb it
// was said with, not only the first.
func TestListBorrowsVerb(t *testing.T) {
	tr := New(testCatalog(t))
	p := tr.Translate("turn off wifi, bluetooth and night light", testNow)
	if p.Status != Ready || len(p.Steps) != 3 {
		t.Fatalf("%+v", p)
	}
	for _, st := range p.Steps {
		var tg struct{ Enabled *bool }
		json.Unmarshal(st.Target, &tg)
		if tg.Enabled == nil || *tg.Enabled {
			t.Errorf("%s: target %s, want enabled false", st.Action, st.Target)
		}
	}
}

// TestDayRanges checks that a bare day bounding a range covers the whole
// day, and that weekdays make a range that ends after it starts.
func TestDayRanges(t *testing.T) {
	tr := New(testCatalog(t))
	monday := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := map[string][2]string{
		"list my events from monday to friday":    {"2026-11-23T00:00:00Z", "2026-11-28T00:00:00Z"},
		"list my events from saturday to tuesday": {"2026-11-28T00:00:00Z", "2026-12-02T00:00:00Z"},
		"am i free between 3pm and 5pm":           {"2026-11-23T15:00:00Z", "2026-11-23T17:00:00Z"},
	}
	for text, want := range cases {
		p := tr.Translate(text, monday)
		if p.Status != Ready || len(p.Steps) != 1 || p.Steps[0].Action != "calendar.event.list" {
			t.Errorf("%q: %+v", text, p)
			continue
		}
		var tg struct{ From, To string }
		json.Unmarshal(p.Steps[0].Target, &tg)
		if tg.From != want[0] || tg.To != want[1] {
			t.Errorf("%q: [%s, %s), want [%s, %s)", text, tg.From, tg.To, want[0], want[1])
		}
	}
}

// BenchmarkCompile measures what a process pays before its first T2
// reading: compiling the catalog and building the weighted vocabulary.
func BenchmarkCompile(b *testing.B) {
	cat := testCatalog(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		New(cat).vocabulary()
	}
}

// TestSplittingIsBounded checks that a request with many conjunctions is
// read (its parts that read) with a bounded number of segment readings.
func TestSplittingIsBounded(t *testing.T) {
	tr := New(testCatalog(t))
	p := &pass{now: testNow, left: passBudget}
	tr.segments(stripFiller(expand(tokenize(strings.Repeat("a ; ", 30)))), p, 0, nil)
	if p.left < 0 {
		t.Fatalf("budget overdrawn: %d", p.left)
	}
	long := strings.Repeat("mute the sound and ", 12) + "mute the sound"
	if got := tr.Translate(long, testNow); got.Status != Ready || len(got.Steps) != 13 {
		t.Fatalf("a list of 13 requests: %s, %d steps", got.Status, len(got.Steps))
	}
}

// TestTitleNeedsAWord checks that a free-text slot does not take only
// function words: "schedule on the 14th" names no event to create.
func TestTitleNeedsAWord(t *testing.T) {
	tr := New(testCatalog(t))
	p := tr.Translate("my schedule on the 14th", testNow)
	for _, st := range p.Steps {
		if st.Action == "calendar.event.create" {
			t.Fatalf("read as creating an event: %s", st.Target)
		}
	}
	p = tr.Translate("schedule a dentist visit on the 14th at 10", testNow)
	if p.Status != Ready || len(p.Steps) != 1 || p.Steps[0].Action != "calendar.event.create" {
		t.Fatalf("%+v", p)
	}
}

// FuzzTemplate compiles arbitrary template text: it must compile or fail
// with an error, and what compiles must match utterances without
// panicking, whatever the nesting.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"(enable|turn on) dark (mode|theme) => mode=dark",
		"set [the] brightness to {percent}",
		"[a|an [very] (b|c)] {x} ((d)) => k=v, j=w",
		"((((((((((a))))))))))", "[", "(a|", "{", "{}", "a => b", "x ] y",
	} {
		f.Add(s, "turn on the dark mode")
	}
	f.Fuzz(func(t *testing.T, src, text string) {
		if len(src) > 500 || len(text) > 500 {
			return
		}
		tpl, err := compileTemplate(newArena(len(src)), "x.y", src)
		if err != nil {
			return
		}
		toks := stripFiller(expand(tokenize(text)))
		pres := newPresence(toks, nil)
		possible := pres.possible(tpl.seq)
		m := tpl.matchAll(toks, nil, nil)
		if m != nil && m.literals > 0 && !possible {
			t.Fatalf("%q matched %q, but the presence check said it could not", src, text)
		}
	})
}

// TestEverydayPhrasings checks phrasings a person uses without thinking
// of the catalog's words: absolute levels said with "up/down to", verbs
// for switches ("shut off", "get out of"), fillers at the end, files and
// command lines where an app name was possible, and wake-up times.
func TestEverydayPhrasings(t *testing.T) {
	tr := New(testCatalog(t))
	cases := []struct {
		text string
		w    want
	}{
		{"could you turn the screen brightness down to a quarter", want{Ready, []string{"desktop.brightness.set"}, map[string]any{"percent": 25}}},
		{"crank the volume all the way up", want{Ready, []string{"desktop.volume.set"}, map[string]any{"percent": 100}}},
		{"shut off wifi", want{Ready, []string{"network.wifi.set"}, map[string]any{"enabled": false}}},
		{"get out of airplane mode", want{Ready, []string{"network.airplane.set"}, map[string]any{"enabled": false}}},
		{"stop notifications for now", want{Ready, []string{"desktop.dnd.set"}, map[string]any{"enabled": true}}},
		{"mute the sound right now", want{Ready, []string{"desktop.volume.mute"}, map[string]any{"muted": true}}},
		{"open budget.xlsx", want{Ready, []string{"fs.open"}, map[string]any{"path": "budget.xlsx"}}},
		{"run ls -la", want{Ready, []string{"shell.run"}, map[string]any{"argv": []string{"ls", "-la"}}}},
		{"show the contents of todo.txt", want{Ready, []string{"fs.read"}, map[string]any{"path": "todo.txt"}}},
		{"wake me up at 6:30 tomorrow", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-03T06:30:00Z"}}},
		{"wake me at 7", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-03T07:00:00Z"}}},
		{"remind me at 5 to call mom", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-02T17:00:00Z"}}},
		{"do i have anything on thursday", want{Ready, []string{"calendar.event.list"}, map[string]any{"from": "2026-03-05T00:00:00Z"}}},
		{"show me the list of running programs", want{Ready, []string{"process.list"}, nil}},
		{"forget my locker code", want{Clarify, nil, nil}},
		{"forget everything", want{Clarify, nil, nil}},
		{"light mode on", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "light"}}},
		{"create an event called team sync on friday at 10am", want{Ready, []string{"calendar.event.create"}, map[string]any{"title": "team sync"}}},
		{"move notes.txt to archive/notes.txt", want{Ready, []string{"fs.move"}, map[string]any{"to": "archive/notes.txt"}}},
		{"make a copy of config.yaml called config.bak", want{Ready, []string{"fs.copy"}, map[string]any{"to": "config.bak"}}},
		{"create a file called ideas.md with the text hello", want{Ready, []string{"fs.write"}, map[string]any{"path": "ideas.md", "content": "hello"}}},
		{"run the command df -h", want{Ready, []string{"shell.run"}, map[string]any{"argv": []string{"df", "-h"}}}},
		{"find pdfs about the budget", want{Ready, []string{"fs.search"}, nil}},
		{"remind me to call the dentist", want{Clarify, nil, nil}},
		{"remind me at 3", want{Clarify, nil, nil}},
		{"set a reminder", want{Clarify, nil, nil}},
		{"night light", want{Clarify, nil, nil}},
		{"alarm 7am", want{Ready, []string{"reminder.create"}, map[string]any{"text": "Alarm"}}},
		{"mute everything and turn on do not disturb", want{Ready, []string{"desktop.volume.mute", "desktop.dnd.set"}, nil}},
		// "it" is what the part before was about.
		{"turn off wifi then turn it back on", want{Ready, []string{"network.wifi.set", "network.wifi.set"}, nil}},
		{"turn off bluetooth and turn it on again", want{Ready, []string{"network.bluetooth.set", "network.bluetooth.set"}, nil}},
		// Times: a clock after a part of the day, alarms in the morning,
		// periods as whole ranges, "for N" an hour only for an alarm.
		{"remind me this evening at 8 to call dad", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-02T20:00:00Z", "text": "call dad"}}},
		{"set an alarm for 6", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-03T06:00:00Z"}}},
		{"set an alarm for quarter past seven", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-03T07:15:00Z"}}},
		{"what's on my calendar for the weekend", want{Ready, []string{"calendar.event.list"}, map[string]any{"from": "2026-03-07T00:00:00Z", "to": "2026-03-09T00:00:00Z"}}},
		{"what do i have this week", want{Ready, []string{"calendar.event.list"}, map[string]any{"from": "2026-03-02T00:00:00Z", "to": "2026-03-09T00:00:00Z"}}},
		{"what do i have tomorrow morning", want{Ready, []string{"calendar.event.list"}, nil}},
		{"when is my next meeting", want{Ready, []string{"calendar.event.list"}, nil}},
		{"list my reminders for tomorrow", want{Ready, []string{"reminder.list"}, map[string]any{"from": "2026-03-03T00:00:00Z"}}},
		{"meeting with bob at 3 tomorrow", want{Ready, []string{"calendar.event.create"}, map[string]any{"title": "meeting with bob"}}},
		{"book a table for 4", want{Rejected, nil, nil}},
		{"undo the last change to essay.docx", want{Ready, []string{"fs.rollback"}, nil}},
		{"vol 20", want{Ready, []string{"desktop.volume.set"}, map[string]any{"percent": 20}}},
		// Files named with their kind, folders, machines turned off.
		{"rename the file a.txt to b.txt", want{Ready, []string{"fs.move"}, map[string]any{"from": "a.txt", "to": "b.txt"}}},
		{"open the pdf manual.pdf", want{Ready, []string{"fs.open"}, map[string]any{"path": "manual.pdf"}}},
		{"move report.pdf into the documents folder", want{Ready, []string{"fs.move"}, map[string]any{"to": "documents"}}},
		{"turn the computer off", want{Ready, []string{"power.poweroff"}, nil}},
		{"stop the process firefox", want{Ready, []string{"process.kill"}, map[string]any{"name": "firefox"}}},
		{"enable power saving mode", want{Ready, []string{"power.profile.set"}, map[string]any{"profile": "power-saver"}}},
		// An action that cannot wait is not read as one that takes a time.
		{"put the computer to sleep in 10 minutes", want{Clarify, nil, nil}},
		{"turn off wifi at 5pm", want{Clarify, nil, nil}},
		// Switching a value off: the other one, never the one named.
		{"disable dark mode", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "light"}}},
		{"turn dark mode off", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "light"}}},
		{"light mode off", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "dark"}}},
		{"go back to light mode", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "light"}}},
		{"turn off performance mode", want{Ready, []string{"power.profile.set"}, map[string]any{"profile": "balanced"}}},
		// A word Noema knows for something else names a unit when the
		// words say service.
		{"start the bluetooth service", want{Ready, []string{"service.start"}, map[string]any{"unit": "bluetooth"}}},
		{"don't disturb me", want{Ready, []string{"desktop.dnd.set"}, map[string]any{"enabled": true}}},
		// Nothing repeats: a repetition is said, not dropped or misread.
		{"remind me every day at 9 to stand up", want{Clarify, nil, nil}},
		{"remind me to water the plants every monday", want{Clarify, nil, nil}},
		{"remind me at 5 to check every door", want{Ready, []string{"reminder.create"}, map[string]any{"text": "check every door"}}},
		{"it's too loud", want{Ready, []string{"desktop.volume.set"}, map[string]any{"delta": -10}}},
		{"it's too quiet", want{Ready, []string{"desktop.volume.set"}, map[string]any{"delta": 10}}},
		// A question about a state never changes it.
		{"is wifi on", want{Clarify, nil, nil}},
		{"is do not disturb on", want{Clarify, nil, nil}},
		{"is the marathon on friday added to my calendar", want{Clarify, nil, nil}},
		{"have a timer for 10 minutes", want{Ready, []string{"timer.start"}, nil}},
		// A verb that names another action is not free text, and vague
		// words name no package.
		{"delete all my files", want{Clarify, nil, nil}},
		{"uninstall everything", want{Rejected, nil, nil}},
		{"turn off all radios", want{Ready, []string{"network.airplane.set"}, map[string]any{"enabled": true}}},
		{"drop the volume to 10", want{Ready, []string{"desktop.volume.set"}, map[string]any{"percent": 10}}},
		// Events: a length before the title is the event's length.
		{"schedule a meeting", want{Clarify, nil, nil}},
		{"add gym to my calendar tomorrow at 7am", want{Ready, []string{"calendar.event.create"}, map[string]any{"title": "gym"}}},
		{"schedule a 45 minute call with paul tomorrow at 4", want{Ready, []string{"calendar.event.create"}, map[string]any{"title": "call with paul", "duration_minutes": 45}}},
		// "its" is the thing the part before was about; a part with its
		// own verb does not borrow one.
		{"restart nginx and check its status", want{Ready, []string{"service.restart", "service.status"}, nil}},
		{"search my files for taxes and open the first one", want{Partial, []string{"fs.search"}, map[string]any{"query": "taxes"}}},
		{"remind me about the meeting", want{Clarify, nil, nil}},
		{"what time is it", want{Rejected, nil, nil}},
		{"close all windows", want{Clarify, nil, nil}},
		{"make the screen warmer", want{Ready, []string{"desktop.nightlight.set"}, map[string]any{"enabled": true}}},
		{"alright set a timer for 2 minutes", want{Ready, []string{"timer.start"}, nil}},
		{"the volume is too high", want{Ready, []string{"desktop.volume.set"}, map[string]any{"delta": -10}}},
		// A word that names something Noema does is no package.
		{"remove the timer", want{Ready, []string{"timer.cancel"}, nil}},
		{"delete the reminder", want{Clarify, nil, nil}},
		{"remove the bluetooth package", want{Ready, []string{"package.remove"}, map[string]any{"name": "bluetooth"}}},
		// Words every screen setting shares name none of them.
		{"turn off the screen", want{Rejected, nil, nil}},
		{"switch off the computer", want{Ready, []string{"power.poweroff"}, nil}},
		{"set a timer for one and a half hours", want{Ready, []string{"timer.start"}, map[string]any{"seconds": 5400}}},
		{"remind me in an hour and 15 minutes to stretch", want{Ready, []string{"reminder.create"}, map[string]any{"at": "2026-03-02T11:15:00Z", "text": "stretch"}}},
		// Slips: "turn of", hyphenated words, "=", "@".
		{"turn of the wifi", want{Ready, []string{"network.wifi.set"}, map[string]any{"enabled": false}}},
		{"dark-mode on", want{Ready, []string{"desktop.theme.set"}, map[string]any{"mode": "dark"}}},
		{"Turn on the Night-Light", want{Ready, []string{"desktop.nightlight.set"}, map[string]any{"enabled": true}}},
		{"brightness=60", want{Ready, []string{"desktop.brightness.set"}, map[string]any{"percent": 60}}},
		{"remind me @ 5pm to call mom", want{Ready, []string{"reminder.create"}, map[string]any{"text": "call mom"}}},
		{"switch to power-saver", want{Ready, []string{"power.profile.set"}, map[string]any{"profile": "power-saver"}}},
		// Verb forms that drop an "e" or double a consonant.
		{"would you mind muting the sound", want{Ready, []string{"desktop.volume.mute"}, map[string]any{"muted": true}}},
		{"stopped the timer", want{Ready, []string{"timer.cancel"}, nil}},
		// "run the script X" runs X, not the program called script.
		{"run the script backup.sh", want{Ready, []string{"shell.run"}, map[string]any{"argv": []string{"backup.sh"}}}},
		{"send me a notification that the build finished", want{Ready, []string{"desktop.notify"}, map[string]any{"title": "build finished"}}},
		// A part that does not read is asked about, not dropped.
		{"turn on wifi and open it", want{Partial, []string{"network.wifi.set"}, nil}},
	}
	for _, c := range cases {
		check(t, tr, c.text, c.w)
	}
	// A vague word ("anything") does not name an action on its own.
	for _, st := range tr.Translate("i can't hear anything, turn it up", testNow).Steps {
		if st.Action == "memory.recall" {
			t.Errorf("a vague word named memory.recall: %s", st.Target)
		}
	}
	// A query of vague words is no query.
	p := tr.Translate("do i have anything on thursday", testNow)
	if strings.Contains(string(p.Steps[0].Target), "query") {
		t.Errorf("vague query kept: %s", p.Steps[0].Target)
	}
}

// TestUnitsAndCommandsAreNotApps checks that a name the system knows as a
// service or a program, and not as an application, is read as that.
func TestUnitsAndCommandsAreNotApps(t *testing.T) {
	tr := New(testCatalog(t))
	tr.AppExists = func(n string) bool { return n == "firefox" }
	tr.UnitExists = func(n string) bool { return n == "docker" }
	tr.CommandExists = func(n string) bool { return n == "ls" || n == "firefox" }
	check(t, tr, "start docker", want{Ready, []string{"service.start"}, map[string]any{"unit": "docker"}})
	check(t, tr, "run ls", want{Ready, []string{"shell.run"}, map[string]any{"argv": []string{"ls"}}})
	check(t, tr, "run firefox", want{Ready, []string{"desktop.app.launch"}, map[string]any{"app": "firefox"}})
}
