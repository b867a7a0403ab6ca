package robustness

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Stages of a provider or key in the configuration. Several replicas load a changed file at
// slightly different times, so a new key is first added for reading on all of them and only
// then made the write key (as Kubernetes documents for several API servers).
const (
	absent = iota
	readOnly
	writing
)

// EncryptionConfig is the configuration file both replicas read, changed in steps during a run.
type EncryptionConfig struct {
	Path      string
	KMSSocket string

	secretKeys []string // secretbox keys of internalsecrets, in file order: the first writes
	keyNames   []string
	shoots     int // aesgcm for shoots
	shootKey   string
	kms        int // the KMS v2 plugin for internalsecrets
}

// NewEncryptionConfig writes the first configuration: internalsecrets with one secretbox key,
// shoots unencrypted.
func NewEncryptionConfig(dir, kmsSocket string) (*EncryptionConfig, error) {
	e := &EncryptionConfig{Path: filepath.Join(dir, "encryption-config.yaml"), KMSSocket: kmsSocket}
	e.secretKeys, e.keyNames = []string{newKey()}, []string{"key-1"}
	return e, e.write()
}

// AddSecretKey adds a secretbox key for reading (last).
func (e *EncryptionConfig) AddSecretKey() error {
	e.secretKeys = append(e.secretKeys, newKey())
	e.keyNames = append(e.keyNames, fmt.Sprintf("key-%d", len(e.keyNames)+1))
	return e.write()
}

// PromoteSecretKey makes the key added last the write key.
func (e *EncryptionConfig) PromoteSecretKey() error {
	n := len(e.secretKeys) - 1
	e.secretKeys = append([]string{e.secretKeys[n]}, e.secretKeys[:n]...)
	e.keyNames = append([]string{e.keyNames[n]}, e.keyNames[:n]...)
	return e.write()
}

// SetShoots sets the stage of shoot encryption.
func (e *EncryptionConfig) SetShoots(stage int) error {
	if e.shootKey == "" {
		e.shootKey = newKey()
	}
	e.shoots = stage
	return e.write()
}

// SetKMS sets the stage of the KMS v2 provider for internalsecrets.
func (e *EncryptionConfig) SetKMS(stage int) error {
	e.kms = stage
	return e.write()
}

// Hash is the configuration's hash as /encryption-status reports it.
func (e *EncryptionConfig) Hash() (string, error) {
	b, err := os.ReadFile(e.Path)
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b)), err
}

// write replaces the file atomically, as the documentation asks.
func (e *EncryptionConfig) write() error {
	var b strings.Builder
	b.WriteString("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n")
	b.WriteString("- resources: [internalsecrets.core.gardener.cloud]\n  providers:\n")
	kms := fmt.Sprintf("  - kms: {apiVersion: v2, name: robustness-kms, endpoint: \"unix://%s\", timeout: 3s}\n", e.KMSSocket)
	if e.kms == writing {
		b.WriteString(kms)
	}
	b.WriteString("  - secretbox:\n      keys:\n")
	for i, k := range e.secretKeys {
		fmt.Fprintf(&b, "      - {name: %s, secret: %q}\n", e.keyNames[i], k)
	}
	if e.kms == readOnly {
		b.WriteString(kms)
	}
	b.WriteString("  - identity: {}\n")
	aesgcm := fmt.Sprintf("  - aesgcm:\n      keys:\n      - {name: shoot-1, secret: %q}\n", e.shootKey)
	switch e.shoots {
	case readOnly:
		b.WriteString("- resources: [shoots.core.gardener.cloud]\n  providers:\n  - identity: {}\n" + aesgcm)
	case writing:
		b.WriteString("- resources: [shoots.core.gardener.cloud]\n  providers:\n" + aesgcm + "  - identity: {}\n")
	}
	tmp := e.Path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, e.Path)
}

func newKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}
