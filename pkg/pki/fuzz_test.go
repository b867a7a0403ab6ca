package pki

import (
	"bytes"
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
		if !bytes.Contains(certPEM, []byte("CERTIFICATE")) {
			t.Fatal("accepted without a certificate block")
		}
	})
}
