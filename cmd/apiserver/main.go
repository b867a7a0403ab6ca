// Command apiserver runs garden-apiserver.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"github.com/garden-apiserver/garden-apiserver/pkg/cmd/server"
)

func main() {
	cmd := server.NewCommand(genericapiserver.SetupSignalContext(), os.Stdout)
	os.Exit(cli.Run(cmd))
}
