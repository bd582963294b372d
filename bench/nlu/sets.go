package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// item is one labelled utterance.
type item struct {
	text    string
	label   string
	seconds int // expected timer length, when the set says
}

// loadCLINC reads test and oos_test of CLINC150 (or, with
// NOEMA_NLU_SPLIT=val, the validation splits used for calibration).
func loadCLINC(dir string) ([]item, error) {
	var d map[string][][2]string
	if err := readJSON(filepath.Join(dir, "data_full.json"), &d); err != nil {
		return nil, err
	}
	splits := []string{"test", "oos_test"}
	if os.Getenv("NOEMA_NLU_SPLIT") == "val" {
		splits = []string{"val", "oos_val"}
	}
	var out []item
	for _, split := range splits {
		for _, it := range d[split] {
			out = append(out, item{text: it[0], label: it[1]})
		}
	}
	return out, nil
}

// loadHWU64 reads one test fold (scenario_intent labels).
func loadHWU64(dir string) ([]item, error) {
	files, err := filepath.Glob(filepath.Join(dir, "KFold_1", "*.csv"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no HWU64 fold in %s", dir)
	}
	var out []item
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		r := csv.NewReader(fh)
		r.Comma = ';'
		r.LazyQuotes = true
		rows, err := r.ReadAll()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, row := range rows[1:] {
			if len(row) < 5 {
				continue
			}
			out = append(out, item{text: row[4], label: row[1] + "_" + row[2]})
		}
	}
	return out, nil
}

// loadSnips reads the validation utterances of the 7 SNIPS intents.
func loadSnips(dir string) ([]item, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "validate_*.json"))
	var out []item
	for _, f := range files {
		var d map[string][]struct {
			Data []struct {
				Text string `json:"text"`
			} `json:"data"`
		}
		if err := readJSON(f, &d); err != nil {
			return nil, err
		}
		for intent, utts := range d {
			for _, u := range utts {
				var sb strings.Builder
				for _, p := range u.Data {
					sb.WriteString(p.Text)
				}
				out = append(out, item{text: strings.TrimSpace(sb.String()), label: intent})
			}
		}
	}
	return out, nil
}

// loadHA reads home-assistant intents test YAML: groups of sentences with
// an intent name and slots. The files are simple enough to read line by
// line without a YAML library.
func loadHA(dir string) ([]item, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "tests", "en", "*.yaml"))
	var out []item
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "_") {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		var sentences []string
		intent := ""
		slots := map[string]int{}
		inSentences, inSlots := false, false
		flush := func() {
			secs := slots["hours"]*3600 + slots["minutes"]*60 + slots["seconds"]
			for _, s := range sentences {
				out = append(out, item{text: s, label: intent, seconds: secs})
			}
			sentences, intent, slots = nil, "", map[string]int{}
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := sc.Text()
			trim := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(trim, "- sentences:"):
				flush()
				inSentences, inSlots = true, false
			case inSentences && strings.HasPrefix(trim, "- "):
				sentences = append(sentences, strings.Trim(strings.TrimPrefix(trim, "- "), `"'`))
			case strings.HasPrefix(trim, "intent:"):
				inSentences = false
			case strings.HasPrefix(trim, "name:") && intent == "" && !inSlots:
				intent = strings.TrimSpace(strings.TrimPrefix(trim, "name:"))
			case strings.HasPrefix(trim, "slots:"):
				inSlots = true
			case inSlots && strings.Contains(trim, ":"):
				k, v, _ := strings.Cut(trim, ":")
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					slots[strings.TrimSpace(k)] = n
				}
			case strings.HasPrefix(trim, "response:") || strings.HasPrefix(trim, "context:"):
				inSlots = false
			}
		}
		flush()
		fh.Close()
	}
	return out, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
