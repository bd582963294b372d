package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is config.toml.
type Config struct {
	LLM struct {
		URL   string `toml:"url"`
		Model string `toml:"model"`
	} `toml:"llm"`
	Approval struct {
		TTL Duration `toml:"ttl"`
	} `toml:"approval"`
	Evidence struct {
		SegmentMB int `toml:"segment_mb"`
	} `toml:"evidence"`
	Runtime struct {
		ExecTimeout Duration `toml:"exec_timeout"`
	} `toml:"runtime"`
	Server ServerConfig `toml:"server"`
}

// Duration reads "5m" from TOML.
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return errors.New("duration is negative")
	}
	*d = Duration(v)
	return nil
}

// ParseConfig reads one config file's text. Unknown keys are an error, so
// a typo never silently leaves a setting at its default.
func ParseConfig(name string, data []byte, into *Config) error {
	md, err := toml.Decode(string(data), into)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s:%d: %s", name, perr.Position.Line, perr.Message)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("%s: unknown setting %q", name, und[0].String())
	}
	if into.Evidence.SegmentMB < 0 || into.Evidence.SegmentMB > 1024 {
		return fmt.Errorf("%s: evidence.segment_mb must be between 1 and 1024", name)
	}
	if err := into.Server.check(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// LoadConfig reads the config files that exist, later ones overriding.
func LoadConfig(files []string) (Config, error) {
	var c Config
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := ParseConfig(f, data, &c); err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
	}
	return c, nil
}
