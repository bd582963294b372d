// Package app wires Noema together: where state lives, the configuration,
// and the pipeline (evidence log, policy kernel, action store, adapters,
// runtime) that the CLI and the daemon share.
package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Paths are the places Noema reads and writes.
type Paths struct {
	// Home is $NOEMA_HOME (default $XDG_DATA_HOME/noema).
	Home string
	// UserHome is the user's home folder.
	UserHome string
	// ConfigDir is $XDG_CONFIG_HOME/noema.
	ConfigDir string
	// ConfigFiles are read in order; later ones win.
	ConfigFiles []string
	// PolicyDirs hold user policy files (*.cedar).
	PolicyDirs []string
}

// Derived locations under Home.
func (p Paths) Evidence() string       { return filepath.Join(p.Home, "evidence") }
func (p Paths) Keys() string           { return filepath.Join(p.Home, "keys") }
func (p Paths) Run() string            { return filepath.Join(p.Home, "run") }
func (p Paths) StateDB() string        { return filepath.Join(p.Home, "state.db") }
func (p Paths) EvidenceIndex() string  { return filepath.Join(p.Home, "index", "evidence.db") }
func (p Paths) Checkpoints() string    { return filepath.Join(p.Home, "checkpoints") }
func (p Paths) LastGoodPolicy() string { return filepath.Join(p.Home, "policy-last-good.json") }

// ResolvePaths reads the environment (getenv may be os.Getenv).
func ResolvePaths(getenv func(string) string) (Paths, error) {
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return Paths{}, errors.New("cannot find the home folder: set HOME")
		}
		home = h
	}
	dataHome := getenv("XDG_DATA_HOME")
	if dataHome == "" {
		dataHome = filepath.Join(home, ".local", "share")
	}
	configHome := getenv("XDG_CONFIG_HOME")
	if configHome == "" {
		configHome = filepath.Join(home, ".config")
	}
	p := Paths{UserHome: home, ConfigDir: filepath.Join(configHome, "noema")}
	p.Home = getenv("NOEMA_HOME")
	if p.Home == "" {
		p.Home = filepath.Join(dataHome, "noema")
	}
	for _, d := range []*string{&p.Home, &p.UserHome, &p.ConfigDir} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			return Paths{}, fmt.Errorf("resolve %s: %w", *d, err)
		}
		*d = abs
	}
	p.ConfigFiles = []string{filepath.Join(p.ConfigDir, "config.toml"), filepath.Join(p.Home, "config.toml")}
	p.PolicyDirs = []string{filepath.Join(p.ConfigDir, "policies"), filepath.Join(p.Home, "policies")}
	return p, nil
}

// Sealed lists what no action may touch.
func (p Paths) Sealed() []string {
	s := []string{p.Evidence(), p.Keys(), p.LastGoodPolicy()}
	s = append(s, p.ConfigFiles...)
	return append(s, p.PolicyDirs...)
}
