package pki

import (
	"bytes"
	"crypto"
	"testing"
	"time"
)

// FuzzParseCA: arbitrary certificate and key bytes never panic; a CA is only returned
// when its certificate matches the key and is a CA.
func FuzzParseCA(f *testing.F) {
	ca, err := NewCA("fuzz-ca", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	certPEM := EncodeCert(ca.Cert)
	keyPEM, err := EncodeKey(ca.Key)
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewCA("other", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(certPEM, keyPEM)
	f.Add(append(EncodeCert(other.Cert), certPEM...), keyPEM)
	f.Add(EncodeCert(other.Cert), keyPEM)
	f.Add(keyPEM, certPEM)
	f.Add([]byte{}, []byte{})
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add(certPEM[:len(certPEM)/2], keyPEM[:len(keyPEM)/2])

	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		got, err := ParseCA(certPEM, keyPEM)
		if err != nil {
			if got != nil {
				t.Fatalf("CA returned together with error %v", err)
			}
			return
		}
		if got == nil || got.Cert == nil || got.Key == nil {
			t.Fatal("nil CA without error")
		}
		if !got.Cert.IsCA {
			t.Fatal("non-CA certificate accepted")
		}
		if now := time.Now(); now.Before(got.Cert.NotBefore) || now.After(got.Cert.NotAfter) {
			t.Fatal("a certificate not valid now was chosen")
		}
		if !bytes.Contains(certPEM, []byte("CERTIFICATE")) {
			t.Fatal("accepted without a certificate block")
		}
		// The chosen certificate is the one that belongs to the key, and it signs what the CA issues.
		if !publicKeysEqual(got.Cert.PublicKey, got.Key.Public()) {
			t.Fatal("the chosen certificate does not match the key")
		}
		key, err := NewKey(ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _, err := got.Issue(Leaf{CommonName: "fuzz", NotAfter: time.Now().Add(time.Hour)}, key.Public())
		if err != nil {
			t.Fatalf("the parsed CA cannot issue: %v", err)
		}
		if err := leaf.CheckSignatureFrom(got.Cert); err != nil {
			t.Fatalf("an issued certificate does not verify against the chosen CA certificate: %v", err)
		}
	})
}

// publicKeysEqual compares through the Equal method every crypto public key type has.
func publicKeysEqual(a, b any) bool {
	ak, ok := a.(interface{ Equal(x crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// TestParseCAPicksTheCertificateOfTheKey: the seed case the fuzz check above relies on.
func TestParseCAPicksTheCertificateOfTheKey(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := EncodeKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCA(append(EncodeCert(other.Cert), EncodeCert(ca.Cert)...), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(ca.Cert) {
		t.Fatalf("picked %q, want %q", got.Cert.Subject.CommonName, ca.Cert.Subject.CommonName)
	}
}
