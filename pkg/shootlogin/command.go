package shootlogin

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/buildinfo"
)

// Name is the program's file name: kubectl runs kubectl-<name> on PATH as `kubectl <name>`.
const Name = "kubectl-shootlogin"

// NewCommand returns the kubectl-shootlogin command; errors are returned, not printed.
func NewCommand(out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           Name,
		Short:         "Shoot kubeconfigs whose client certificates are requested from the garden when needed",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRun: func(*cobra.Command, []string) {
			buildinfo.PrintAndExitIfRequested(out, Name, os.Exit)
		},
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	buildinfo.AddFlags(root.PersistentFlags())

	o := newOptions()
	kubeconfig := &cobra.Command{
		Use:   "kubeconfig --namespace NS --shoot NAME [--viewer] [--garden-kubeconfig PATH]",
		Short: "Print a kubeconfig of the shoot whose user runs this program as a kubectl credential plugin",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return runKubeconfig(c.Context(), o, out) },
	}
	credential := &cobra.Command{
		Use:   "credential --namespace NS --shoot NAME [--viewer] [--garden-kubeconfig PATH]",
		Short: "Print an ExecCredential with a client certificate of the shoot (run by kubectl, from the kubeconfig)",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return runCredential(c.Context(), o, out) },
	}
	for _, c := range []*cobra.Command{kubeconfig, credential} {
		o.addFlags(c.Flags())
		root.AddCommand(c)
	}
	return root
}

// prepare validates o and returns the garden, the cache and the key of the credential.
func prepare(o *options) (*Garden, Cache, Key, error) {
	if err := o.validate(); err != nil {
		return nil, Cache{}, Key{}, err
	}
	g, err := loadGarden(o.GardenKubeconfig, o.GardenContext, o.Timeout)
	if err != nil {
		return nil, Cache{}, Key{}, err
	}
	dir, err := DefaultCacheDir()
	if err != nil {
		return nil, Cache{}, Key{}, err
	}
	// The process holding the lock issues one credential, bounded by --timeout.
	return g, Cache{Dir: dir, LockTimeout: o.Timeout + 30*time.Second}, Key{Garden: gardenID(g.Server, g.User, o.GardenKubeconfig, o.GardenContext), Namespace: o.Namespace, Shoot: o.Shoot, Kind: o.kind()}, nil
}

func runCredential(ctx context.Context, o *options, out io.Writer) error {
	g, cache, key, err := prepare(o)
	if err != nil {
		return err
	}
	st, err := cache.Credential(ctx, key, time.Now, o.RenewBefore, func(ctx context.Context) (*clientauthv1.ExecCredentialStatus, error) {
		_, st, err := g.Issue(ctx, o.Namespace, o.Shoot, o.Viewer, o.Expiration)
		return st, err
	})
	if err != nil {
		return err
	}
	return writeExecCredential(out, st)
}

// runKubeconfig requests one kubeconfig for the shoot's clusters and CAs, caches its
// certificate (so the first kubectl call needs no second one) and prints the exec kubeconfig.
func runKubeconfig(ctx context.Context, o *options, out io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.pinGarden(); err != nil {
		return err
	}
	g, cache, key, err := prepare(o)
	if err != nil {
		return err
	}
	command, err := commandPath()
	if err != nil {
		return err
	}
	unlock, err := cache.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	issued, st, err := g.Issue(ctx, o.Namespace, o.Shoot, o.Viewer, o.Expiration)
	if err != nil {
		return err
	}
	if err := cache.Write(key, st); err != nil {
		return err
	}
	raw, err := clientcmd.Write(*execKubeconfig(issued, command, o.execArgs()))
	if err != nil {
		return err
	}
	_, err = out.Write(raw)
	return err
}
