package action

// Risk flags say what could go wrong; policy decides what each requires.
type Risk struct {
	Destructive          bool `json:"destructive"`
	Privileged           bool `json:"privileged"`
	NetworkExposure      bool `json:"network_exposure"`
	SecretAccess         bool `json:"secret_access"`
	RecoveryPathAffected bool `json:"recovery_path_affected"`
	Tainted              bool `json:"tainted"`
}

// Any reports whether any flag is set.
func (r Risk) Any() bool {
	return r.Destructive || r.Privileged || r.NetworkExposure || r.SecretAccess || r.RecoveryPathAffected || r.Tainted
}

// Or merges flags.
func (r Risk) Or(o Risk) Risk {
	return Risk{
		Destructive:          r.Destructive || o.Destructive,
		Privileged:           r.Privileged || o.Privileged,
		NetworkExposure:      r.NetworkExposure || o.NetworkExposure,
		SecretAccess:         r.SecretAccess || o.SecretAccess,
		RecoveryPathAffected: r.RecoveryPathAffected || o.RecoveryPathAffected,
		Tainted:              r.Tainted || o.Tainted,
	}
}

// Names lists the set flags, for display.
func (r Risk) Names() []string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{r.Destructive, "destructive"}, {r.Privileged, "privileged"}, {r.NetworkExposure, "network_exposure"},
		{r.SecretAccess, "secret_access"}, {r.RecoveryPathAffected, "recovery_path_affected"}, {r.Tainted, "tainted"},
	} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return out
}
