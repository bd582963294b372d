package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/cognition"
	"github.com/noema-project/noema/llm"
	"github.com/noema-project/noema/translate"
)

// LLMConfig resolves the model settings: NOEMA_LLM_URL and
// NOEMA_LLM_MODEL win over config.toml; none means offline.
func LLMConfig(getenv func(string) string, cfg Config) llm.Config {
	c := llm.Config{URL: cfg.LLM.URL, Model: cfg.LLM.Model, APIKey: getenv("NOEMA_LLM_API_KEY"), Timeout: 60 * time.Second}
	if v := getenv("NOEMA_LLM_URL"); v != "" {
		c.URL = v
	}
	if v := getenv("NOEMA_LLM_MODEL"); v != "" {
		c.Model = v
	}
	return c
}

// NewPlanner builds the cognition planner over a registry: the offline
// translator always, the model when one is configured.
func NewPlanner(p Paths, getenv func(string) string, cfg Config, cat *action.Catalog, dm *desktop.Module) *cognition.Planner {
	newTr := func() *translate.Translator {
		tr := translate.New(cat.All())
		if dm != nil {
			tr.AppExists = func(name string) bool { return dm.AppExists(context.Background(), name) }
		}
		tr.UnitExists = unitExists(p.UserHome)
		tr.CommandExists = commandExists
		return tr
	}
	var model *llm.Client
	lc := LLMConfig(getenv, cfg)
	if lc.URL != "" && lc.Model != "" {
		model, _ = llm.New(lc)
	}
	breaker := cognition.NewBreaker(filepath.Join(p.Run(), "llm-breaker.json"), 2, time.Minute)
	cache := cognition.OpenCache(filepath.Join(p.Home, "cache", "plans.json"), cat)
	return cognition.New(cat, newTr, model, breaker).WithCache(cache)
}

// unitExists reports a systemd unit file for a name (NAME.service unless
// the name has a unit suffix) in the system and user unit folders.
func unitExists(userHome string) func(string) bool {
	dirs := []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system", "/usr/lib/systemd/user"}
	if userHome != "" {
		dirs = append(dirs, filepath.Join(userHome, ".config", "systemd", "user"))
	}
	return func(name string) bool {
		if name == "" || strings.ContainsAny(name, "/ \x00") {
			return false
		}
		if !strings.Contains(name, ".") {
			name += ".service"
		}
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, name)); err == nil {
				return true
			}
		}
		return false
	}
}

// commandExists reports a program of that name on PATH.
func commandExists(name string) bool {
	if name == "" || strings.ContainsAny(name, "/ \x00") {
		return false
	}
	_, err := exec.LookPath(name)
	return err == nil
}
