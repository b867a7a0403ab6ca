// Command example-ca prints the <shoot>.ca-client and <shoot>.ca-cluster InternalSecrets
// of a shoot, with freshly generated CAs, as YAML for kubectl apply.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

func main() {
	namespace := flag.String("namespace", "garden-dev", "namespace of the shoot")
	shoot := flag.String("shoot", "my-shoot", "name of the shoot")
	flag.Parse()
	if err := run(*namespace, *shoot); err != nil {
		fmt.Fprintf(os.Stderr, "example-ca: %v\n", err)
		os.Exit(1)
	}
}

func run(namespace, shoot string) error {
	for i, suffix := range []string{".ca-client", ".ca-cluster"} {
		ca, err := pki.NewCA(shoot+suffix, 365*24*time.Hour)
		if err != nil {
			return err
		}
		key, err := pki.EncodeKey(ca.Key)
		if err != nil {
			return err
		}
		data := map[string][]byte{"ca.crt": pki.EncodeCert(ca.Cert)}
		if suffix == ".ca-client" {
			data["ca.key"] = key
		}
		s := corev1beta1.InternalSecret{Data: data}
		s.APIVersion, s.Kind = corev1beta1.SchemeGroupVersion.String(), "InternalSecret"
		s.Name, s.Namespace = shoot+suffix, namespace
		out, err := yaml.Marshal(s)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Print(string(out))
	}
	return nil
}
