// Command apiserver runs garden-apiserver.
package main

import (
	"os"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/buildinfo"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	o := apiserver.NewOptions(os.Stdout)
	cmd := &cobra.Command{
		Use:          "garden-apiserver",
		Short:        "Serves Gardener's InternalSecrets and Shoots (core.gardener.cloud) as an aggregated API server",
		SilenceUsage: true,
		RunE: func(c *cobra.Command, _ []string) error {
			buildinfo.PrintAndExitIfRequested(os.Stdout, "garden-apiserver", os.Exit)
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)
	o.AddFlags(cmd.Flags())
	buildinfo.AddFlags(cmd.Flags())
	os.Exit(cli.Run(cmd))
}
