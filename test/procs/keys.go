package procs

import "github.com/garden-apiserver/garden-apiserver/pkg/pki"

// WriteServiceAccountKey writes a new ECDSA P-256 key for kube-apiserver's service accounts
// to path as PEM (mode 0600).
func WriteServiceAccountKey(path string) error {
	key, err := pki.NewKey(pki.ECDSAP256)
	if err != nil {
		return err
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		return err
	}
	return pki.WriteFile(path, keyPEM)
}
