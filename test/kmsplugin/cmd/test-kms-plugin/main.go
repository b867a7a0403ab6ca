// Command test-kms-plugin runs the test KMS v2 plugin of package kmsplugin on a unix socket,
// for trying KMS v2 encryption locally (see docs/encryption.md). Not for production.
package main

import (
	"encoding/base64"
	"flag"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

func main() {
	socket := flag.String("socket", "/tmp/garden-kms.sock", "Unix socket to serve the KMS v2 API on.")
	keyID := flag.String("key-id", "key-1", "ID of the key encryption key.")
	keyFile := flag.String("key-file", "", "File with the base64 of a 32-byte key; a random key (lost on exit) when empty.")
	flag.Parse()

	var key []byte
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			log.Fatal(err)
		}
		if key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err != nil {
			log.Fatalf("decoding %s: %v", *keyFile, err)
		}
	}
	p, err := kmsplugin.New(*socket, *keyID, key)
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	log.Printf("KMS v2 test plugin serving on unix://%s with key ID %q", *socket, *keyID)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	p.Stop()
}
