// Command kubectl-shootlogin prints shoot kubeconfigs backed by a client-go exec credential
// plugin (itself) and serves as that plugin. On PATH it is also `kubectl shootlogin`.
package main

import (
	"fmt"
	"os"

	"github.com/garden-apiserver/garden-apiserver/pkg/shootlogin"
)

func main() {
	if err := shootlogin.NewCommand(os.Stdout).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s\n", shootlogin.Name, shootlogin.OneLine(err))
		os.Exit(1)
	}
}
