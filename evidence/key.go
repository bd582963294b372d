package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// KeyName names the evidence signing key in signed notes.
const KeyName = "noema-evidence"

const (
	keyFile = "evidence.key"
	pubFile = "evidence.pub"
)

// Key is the Ed25519 key that signs commits, segment seals and checkpoints.
// It lives outside the evidence folder so that the folder holds only what
// it certifies, and it is readable by its owner only.
type Key struct {
	priv ed25519.PrivateKey
	pub  PublicKey
}

// PublicKey verifies what a Key signed. Anyone holding it (as the vkey line
// in evidence.pub) can check a log's seals, inclusion and consistency.
type PublicKey struct {
	key      ed25519.PublicKey
	verifier note.Verifier
	vkey     string
}

// LoadOrCreateKey reads dir/evidence.key, creating the key pair on first
// use. A key file readable by group or others is refused rather than
// silently trusted.
func LoadOrCreateKey(dir string) (*Key, bool, error) {
	path := filepath.Join(dir, keyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := createKey(dir)
		return k, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("evidence key: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("evidence key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("evidence key %s has mode %v; it must be readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	k, err := parsePrivateKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, false, fmt.Errorf("evidence key %s: %w", path, err)
	}
	return k, false, nil
}

func createKey(dir string) (*Key, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, KeyName)
	if err != nil {
		return nil, fmt.Errorf("evidence key: generate: %w", err)
	}
	k, err := parsePrivateKey(skey)
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(dir, keyFile), []byte(skey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, pubFile), []byte(vkey+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	return k, nil
}

// writeFileSync creates path exclusively, writes data and syncs it.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parsePrivateKey reads the signed-note private key format
// PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>.
func parsePrivateKey(skey string) (*Key, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return nil, errors.New("not a PRIVATE+KEY line")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("malformed Ed25519 key")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	pub, err := NewPublicKey(parts[2], priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return &Key{priv: priv, pub: *pub}, nil
}

// NewPublicKey wraps a raw Ed25519 public key under name.
func NewPublicKey(name string, pub ed25519.PublicKey) (*PublicKey, error) {
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	return ParsePublicKey(vkey)
}

// ParsePublicKey reads a vkey line (name+hash+base64) as written to
// evidence.pub.
func ParsePublicKey(vkey string) (*PublicKey, error) {
	vkey = strings.TrimSpace(vkey)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("evidence public key: %w", err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		return nil, errors.New("evidence public key: not an Ed25519 key")
	}
	return &PublicKey{key: ed25519.PublicKey(raw[1:]), verifier: v, vkey: vkey}, nil
}

// LoadPublicKey reads a vkey file.
func LoadPublicKey(path string) (*PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evidence public key: %w", err)
	}
	return ParsePublicKey(string(data))
}

// PublicKeyPath is where LoadOrCreateKey keeps the public half.
func PublicKeyPath(keyDir string) string { return filepath.Join(keyDir, pubFile) }

// Public returns the verifying half.
func (k *Key) Public() *PublicKey { return &k.pub }

// Sign signs msg with the raw Ed25519 key.
func (k *Key) Sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// noteSigner lets a Key sign C2SP notes.
type noteSigner struct{ k *Key }

func (s noteSigner) Name() string                    { return s.k.pub.verifier.Name() }
func (s noteSigner) KeyHash() uint32                 { return s.k.pub.verifier.KeyHash() }
func (s noteSigner) Sign(msg []byte) ([]byte, error) { return s.k.Sign(msg), nil }

// String is the vkey line, safe to print.
func (p *PublicKey) String() string { return p.vkey }

// Verify checks an Ed25519 signature over msg.
func (p *PublicKey) Verify(msg, sig []byte) bool { return ed25519.Verify(p.key, msg, sig) }

// Origin names the log in checkpoints. It is derived from the key so that
// two installations never issue checkpoints for the same origin.
func (p *PublicKey) Origin() string {
	return fmt.Sprintf("noema.local/evidence/%08x", p.verifier.KeyHash())
}
