package server

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"
	cliflag "k8s.io/component-base/cli/flag"

	"github.com/garden-apiserver/garden-apiserver/pkg/buildinfo"
)

// NewCommand returns the garden-apiserver command: parse flags, Complete, Validate, Run.
func NewCommand(ctx context.Context, out io.Writer) *cobra.Command {
	o := NewServerOptions(out)
	cmd := &cobra.Command{
		Use:          "garden-apiserver",
		Short:        "Serves Gardener's InternalSecrets and Shoots (core.gardener.cloud) as an aggregated API server",
		SilenceUsage: true,
		RunE: func(c *cobra.Command, _ []string) error {
			buildinfo.PrintAndExitIfRequested(out, "garden-apiserver", os.Exit)
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)
	fss := o.Flags()
	buildinfo.AddFlags(fss.FlagSet("global"))
	for _, fs := range fss.FlagSets {
		cmd.Flags().AddFlagSet(fs)
	}
	cliflag.SetUsageAndHelpFunc(cmd, fss, 0)
	return cmd
}
